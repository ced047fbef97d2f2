"""Group "derive it from memory" challenges.

A run posts a challenge's prompt to a group with a deadline. Members join and
submit privately (text or a photo of their page); answers stay hidden until
the reveal. At the deadline (found by the challenge sweep, or by an in-memory
alarm at the earliest open deadline) or early, the reference is posted and every
member who submitted gets a private self-assessment: tick the checkpoints they
got and rate each rubric row Confident, Shaky or Need to re-study. Applying it
reviews the linked cards in their own schedule (Good, Hard, Again; source
``challenge``). When everyone has assessed (or half an hour after the reveal) a
summary with a heat map of rows by participants goes to the group.

The package, one concern a module:

- :mod:`.definitions`: the challenge files' format and parser.
- :mod:`.groups`: the catalogue of challenges, group settings and who may run them.
- :mod:`.runs`: starting, joining, answering, status, cancel and the reveal.
- :mod:`.assessment`: the private self-assessment, applying it, the group summary.
- :mod:`.schedules`: weekly challenges.
- :mod:`.photos`: photo answers, downloaded when sent and kept within limits.
- :mod:`.service`: :class:`ChallengeService`, what adapters and timers call.
"""
