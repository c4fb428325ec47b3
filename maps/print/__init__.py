"""Printed outputs: A3 map sheets (:mod:`.sheet`) and report figures (:mod:`.figures`), PDF and PNG."""
