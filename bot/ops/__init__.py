"""Operations: the Prometheus metrics and the HTTP endpoint that serves them.

:mod:`bot.ops.metrics` implements the core's :class:`~bot.core.metrics.Metrics`
port with prometheus-client; :mod:`bot.ops.server` serves ``/healthz`` and
``/metrics`` on the bot's event loop (``[ops]``, off by default).
"""
