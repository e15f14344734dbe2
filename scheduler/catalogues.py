"""The message catalogues: what the code says, extracted, and the languages' files kept in
step with it. Two domains: ``messages`` for residents (every language) and ``staff`` for the
staff workspace (German and English); ``babel.cfg`` and ``babel-staff.cfg`` say which files
belong to which."""
import copy
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .config import ROOT

TRANSLATIONS = ROOT / "translations"
SOURCE_LANGUAGE = "en"
DOMAINS = {
    "messages": {"mapping": ROOT / "babel.cfg", "languages": None},  # None: every folder
    "staff": {"mapping": ROOT / "babel-staff.cfg", "languages": ["de", "en"]},
}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_nl": (1, 2), "lazy_ngettext": (1, 2)}
COMMENT_TAGS = ("Translators:",)


def extract(domain: str) -> Catalog:
    """Every message the code of ``domain`` says, with the translators' comments."""
    with open(DOMAINS[domain]["mapping"]) as file:
        method_map, options_map = parse_mapping_cfg(file)
    catalog = Catalog(project="lokal willkommen", domain=domain, charset="utf-8", fuzzy=False)
    for _file, _line, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    ):
        catalog.add(message, None, auto_comments=comments, context=context)
    return catalog


def template_path(domain: str) -> Path:
    return TRANSLATIONS / f"{domain}.pot"


def catalogue_path(language: str, domain: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{domain}.po"


def languages(domain: str) -> list[str]:
    listed = DOMAINS[domain]["languages"]
    if listed is not None:
        return listed
    return sorted(path.name for path in TRANSLATIONS.iterdir()
                  if (path / "LC_MESSAGES" / f"{domain}.po").exists())


def read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, sort_output=True, no_location=True, ignore_obsolete=True,
                 width=76)


def update(domain: str) -> list[Path]:
    """Write the domain's template from the code, then bring every language's catalogue in
    step (a missing staff catalogue is created); English says each message as written."""
    template = extract(domain)
    write(template_path(domain), template)
    written = []
    for language in languages(domain):
        path = catalogue_path(language, domain)
        catalog = read(path) if path.exists() else Catalog(
            locale=language, domain=domain, charset="utf-8", fuzzy=False)
        # A copy each: Babel puts the template's own message objects into the catalogue, and
        # English fills them in (below), which leaked English into the languages after it.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if language == SOURCE_LANGUAGE:
            for message in catalog:
                if message.id:
                    message.string = message.id
        write(path, catalog)
        written.append(path)
    return written


def compile_all() -> list[Path]:
    """Compile every catalogue of every domain to the .mo files the service reads."""
    compiled = []
    for domain in DOMAINS:
        for language in languages(domain):
            path = catalogue_path(language, domain)
            if not path.exists():
                continue
            catalog = read(path)
            target = path.with_suffix(".mo")
            with target.open("wb") as file:
                write_mo(file, catalog, use_fuzzy=False)
            compiled.append(target)
    return compiled
