"""Drawing images with matplotlib: the implementation of the core's ``Renderer`` port.

Only this package imports matplotlib (object API, Agg canvas; never pyplot).

- ``service.MatplotlibRenderer``: the port; cached, renders in worker processes.
- ``layout``: the pure layout model of shape diagrams (tested directly).
- ``heatmap``: challenge-summary heat maps (layout model + drawing).
- ``diagram``: built-in reference diagrams (``image: diagram transformer``).
- ``shapes``, ``formula``, ``charts``, ``text``: the drawings.
- ``cache``: content-hash keys, the in-memory LRU and the on-disk PNG cache.
- ``commands``: what ``studybot render`` / ``decks render|gallery|check`` call.

Importing this package does not import matplotlib; its modules do.
"""
