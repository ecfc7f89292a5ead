"""Airflow's import names served by Tradewind: one table (``names``), a meta-path finder that builds ``airflow.*``
modules from it (``finder``), and the switch that installs it where user code runs (``activation``)."""
