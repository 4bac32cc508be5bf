"""Engines that contract checks run their SQL on: PostgreSQL and Databricks SQL warehouses, behind one protocol."""
