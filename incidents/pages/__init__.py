"""Presenters: turn the selectors' querysets and numbers into a page's template context (paging, sort links,
permission flags). Views and the live pages' consumers call these, never each other."""
