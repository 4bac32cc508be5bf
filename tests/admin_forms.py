"""Build an admin form's POST data the way a browser would, from the page's own forms and inline formsets."""


def _as_post_value(value):
    if value is True:
        return "on"
    if value is None or value is False:
        return None
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def admin_post_data(response, **changes) -> dict:
    """The form on an admin add/change page as currently filled in, with `changes` applied."""
    data: dict = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for bound in form:
            value = _as_post_value(bound.value())
            if value is not None:
                data[bound.html_name] = value
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data
