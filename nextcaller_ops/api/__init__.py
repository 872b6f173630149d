"""The API's language, pure: no I/O, no settings.

Phone numbers (:mod:`.phone`), records and their parts (:mod:`.models`, :mod:`.record_parts`,
:mod:`.xmldoc`), the API's error codes mapped onto :mod:`nextcaller_ops.errors` (:mod:`.error_map`),
v2.1's questions and fraud levels (:mod:`.queries`, :mod:`.fraud`), what a correction may hold
(:mod:`.correction_fields`), text rules (:mod:`.text`) and the cards and rows every surface shows
(:mod:`.render`).  The sandbox validates with these same modules.
"""
