"""Pure text helpers shared by the core, the renderer and the chat adapters.

Standard library only, and nothing else from ``bot``:

- :mod:`bot.text.latex`: LaTeX formulas and ``$...$`` math as plain Unicode.
- :mod:`bot.text.markdown`: fenced code and tables; whether a text needs an image.
- :mod:`bot.text.split`: messages split under a platform's length limit.
- :mod:`bot.text.excerpt`: a short excerpt of typed input, to quote it back.
- :mod:`bot.text.terminal`: markdown for a terminal: wrapped to its width, styled with
  ANSI escapes or plain.
"""
