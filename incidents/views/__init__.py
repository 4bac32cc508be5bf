"""Pages of the incidents app: the dashboard, the incident list and an incident's page with its actions."""
