"""The operator's commands beside ``serve``: install-views and status (CLI output)."""
