"""Upload kits (``locker kit``, issue 16): the form profiles (:mod:`.forms`), which exhibits go on a
form (:mod:`.select`), the evidence cards (:mod:`.cards`), the description and its cut (:mod:`.text`)
and the words on them in zh/en (:mod:`.labels`). The use case is :mod:`locker.services.kit`."""
