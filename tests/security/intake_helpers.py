"""What the webhook intake tests share: the secret their connection is configured with (the web server's tests send
it as a query token that must stay out of its access log)."""

SECRET = "s3cret-webhook-token-0123"
