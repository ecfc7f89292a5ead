"""The operator behind ``@task.sensor``: the function is the poke."""

from __future__ import annotations

from tradewind.sdk.sensors.python import PythonSensor


class DecoratedSensorOperator(PythonSensor):
    """``@task.sensor(poke_interval=..., timeout=..., mode=...)``: the function returns a bool or a
    ``PokeReturnValue``, whose ``xcom_value`` becomes the task's XCom when it is done."""

    custom_operator_name = "@task.sensor"
