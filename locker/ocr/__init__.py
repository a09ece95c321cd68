"""Offline OCR of screenshots and photos (the optional ``locker[ocr]`` extra).

What is read here is derived data, never evidence: it is keyed by the object's SHA-256 and
the engine's identity (see ``engine.ENGINE_ID``) and can always be read again.
"""
