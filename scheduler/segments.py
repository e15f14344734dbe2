"""How many parts (segments) an SMS is sent as, which is what the provider bills: GSM 03.38.

Plain arithmetic on a text, used where messages are written (``services.notify``) and where
their rows are stored (``models.message`` records each SMS's count for the figures).
"""


# GSM 03.38: the basic alphabet (without the escape) and the extension table, whose
# characters take two of the 160 septets (an escape and the character).
GSM7 = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = "\f^{}\\[~]|€"
_GSM7_ALL = frozenset(GSM7 + GSM7_EXTENSION)


def is_gsm7(text):
    return _GSM7_ALL.issuperset(text)


def segments(text):
    """How many SMS ``text`` is sent as: in GSM-7, 160 septets alone or 153 per part; with
    any other character, UCS-2, 70 code units alone or 67 per part (a character outside the
    BMP takes two). An escape pair or a surrogate pair is never split between parts.

    Every SMS is measured once, when its row is written (``models.message``); the common
    cases (no two-unit character) are counted without walking the text."""
    if is_gsm7(text):
        wide = sum(text.count(char) for char in GSM7_EXTENSION)
        single, part = 160, 153
    else:
        wide = len(text.encode("utf-16-le")) // 2 - len(text)
        single, part = 70, 67
    if len(text) + wide <= single:
        return 1
    if not wide:  # every character one unit: parts of ``part`` units each
        return -(-len(text) // part)
    if single == 160:
        units = [2 if char in GSM7_EXTENSION else 1 for char in text]
    else:
        units = [len(char.encode("utf-16-le")) // 2 for char in text]
    count, used = 1, 0
    for unit in units:
        if used + unit > part:
            count, used = count + 1, 0
        used += unit
    return count
