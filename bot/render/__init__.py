"""Drawing images with matplotlib: the implementation of the core's ``Renderer`` port.

Only this package imports matplotlib (object API, Agg canvas; never pyplot).

- ``service.MatplotlibRenderer``: the port; cached, renders in worker processes
  started by the first cold render and stopped when idle.
- ``jobs``: what is handed to a worker (plain values) and the checks made before;
  ``worker``: what a worker runs.
- ``layout``: the pure layout model of shape diagrams (tested directly).
- ``heatmap``: challenge-summary heat maps (layout model + drawing).
- ``diagram``: built-in reference diagrams (``image: diagram transformer``).
- ``shapes``, ``formula``, ``charts``, ``text``: the drawings.
- ``cache``: content-hash keys, the in-memory LRU and the on-disk PNG cache.
- ``commands``: what ``studybot render`` / ``decks render|gallery|check`` call.

Importing this package, ``service``, ``worker``, ``jobs`` or ``cache`` does not import
matplotlib (the bot's process never does); the drawing modules do.
"""
