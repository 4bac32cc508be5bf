"""Presenters of the contract pages: selector results turned into each page's context (paging, links, permission
flags). Views and consumers render from them alike."""
