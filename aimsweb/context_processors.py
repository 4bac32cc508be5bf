from aimsweb.roles import user_role


def role(request) -> dict:
    """The signed-in user's role, for the header and for showing only the actions it allows."""
    return {"role": user_role(request.user) if hasattr(request, "user") else None}
