"""What every bionty registry adds to a core registry: its public source, records made from it.

`public()` is the registry's shipped ontology (or gene table), read offline; `from_source()` and
`from_values()` make records from it (existing records are returned, not duplicated);
`import_source()` brings a whole ontology in. Uids are derived from the ontology id, so the same term
gets the same uid in every instance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, ClassVar, Literal, Self

from sqlalchemy import select
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from lamella._instance import state
from lamella._logging import logger
from lamella._query.relations import model
from lamella._uid import BASE62
from lamella.bionty import settings as bionty_settings
from lamella.bionty import sources
from lamella.errors import DoesNotExist, InvalidArgument
from lamella.models.core.bulk import RecordList, gc_paused, save_rows
from lamella.models.core.bulk import save as save_records
from lamella.models.core.columns import utcnow

# pending parent ontology ids of an unsaved term, linked when it is saved
_PARENTS = "_lamella_parent_ids"


def uid_from(text: str, length: int) -> str:
    """A uid derived from an ontology id: the same term has the same uid in every instance."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "".join(chars)


def _field_name(model: type, field: Any) -> str:
    if field is None:
        return str(getattr(model, "_id_field", None) or "name")
    if isinstance(field, str):
        name = field
    else:
        name = getattr(field, "key", None) or ""
        owner = getattr(field, "class_", None)
        if owner is not None and not issubclass(model, owner) and not issubclass(owner, model):
            raise InvalidArgument(f"field={field!r} belongs to {owner.__name__}, not {model.__name__}")
    if name not in model.__table__.c:  # type: ignore[attr-defined]
        fields = sorted(c.key for c in model.__table__.c if c.key not in ("id", "uid"))  # type: ignore[attr-defined]
        raise InvalidArgument(f"{model.__name__} has no field {name!r}; fields: {', '.join(fields)}")
    return name


# the public columns that become record fields, per registry kind
_GENE_COLUMNS = ("symbol", "biotype", "length", "synonyms", "ncbi_gene_ids", "description")


class BioRegistry:
    """Public-source verbs shared by every bionty registry."""

    _id_field: ClassVar[str] = "ontology_id"
    _needs_organism: ClassVar[bool] = False

    # --- identity ---------------------------------------------------------------------------------

    def _apply_kwargs(self, kwargs: dict[str, Any]) -> None:
        organism = kwargs.get("organism")
        if isinstance(organism, str):
            kwargs["organism"] = organism_record(organism)
        identifier = kwargs.get(self._id_field)
        if kwargs.get("uid") is None and isinstance(identifier, str) and identifier:
            kwargs["uid"] = uid_from(identifier, self._uid_length)  # type: ignore[attr-defined]
        super()._apply_kwargs(kwargs)  # type: ignore[misc]

    @classmethod
    def _default_field(cls) -> str:
        """What users call records by: a gene's symbol, a term's name."""
        return getattr(cls, "_lookup_field", None) or getattr(cls, "_name_field", None) or cls._id_field

    # --- the public source ------------------------------------------------------------------------

    @classmethod
    def _organism_name(cls, organism: Any) -> str | None:
        if organism is None and cls._needs_organism:
            organism = bionty_settings.settings.organism
        if organism is None:
            return None
        if isinstance(organism, str):
            return organism
        name = getattr(organism, "name", None)
        if isinstance(name, str):
            return name
        raise InvalidArgument(f"organism= takes an organism name or a bt.Organism, not {organism!r}")

    @classmethod
    def public(cls, organism: Any = None, source: Any = None, version: str | None = None) -> Any:
        """The registry's public ontology (or gene table), shipped with Lamella and read offline."""
        if hasattr(source, "to_dataframe") and hasattr(source, "standardize"):
            return source  # a public source already opened (a user's ontology file, say)
        source_name = getattr(source, "name", source)
        if source is not None and hasattr(source, "version") and version is None:
            version = source.version
        return sources.public(
            cls.__name__, organism=cls._organism_name(organism), source=source_name, version=version
        )

    @classmethod
    def _existing(cls, field: str, values: list[Any], organism_id: int | None = None) -> dict[Any, Any]:
        """Saved records whose `field` is one of `values`, in the main branch, by that value."""
        found: dict[Any, Any] = {}
        if not values:
            return found
        session = state.current().db.session()
        column = cls.__table__.c[field]  # type: ignore[attr-defined]
        for start in range(0, len(values), 900):
            statement = select(cls).where(column.in_(values[start : start + 900]), cls.branch_id == 1)  # type: ignore[attr-defined]
            if organism_id is not None and "organism_id" in cls.__table__.c:  # type: ignore[attr-defined]
                statement = statement.where(cls.organism_id == organism_id)  # type: ignore[attr-defined]
            for record in session.execute(statement).scalars():
                found.setdefault(getattr(record, field), record)
        return found

    @classmethod
    def _record_from_row(cls, row: dict[str, Any], public: Any, organism: Any) -> Any:
        fields = cls._fields_from_row(row)
        constructor: Any = cls
        record = constructor(**fields, _skip_existing_check=True)
        if organism is not None and "organism_id" in cls.__table__.c:  # type: ignore[attr-defined]
            _relate(record, "organism", organism)
        record.__dict__["_lamella_public"] = (public.source, public.version, public.organism)
        record.__dict__["_lamella_public_source"] = public  # where its parents come from
        return record

    @classmethod
    def _fields_from_row(cls, row: dict[str, Any]) -> dict[str, Any]:
        columns = cls.__table__.c  # type: ignore[attr-defined]
        fields: dict[str, Any] = {}
        for key, value in row.items():
            if key in columns and key not in ("id", "uid") and _present(value):
                fields[key] = value.item() if hasattr(value, "item") else value
        return fields

    @classmethod
    def from_source(
        cls, *, organism: Any = None, source: Any = None, mute: bool = False, **lookup: Any
    ) -> Self:
        """A record made from the public source, e.g. `bt.CellType.from_source(name="neuron")`.

        Looked up by one field (`name=`, `ontology_id=`, `symbol=`, `ensembl_gene_id=`, ...); the saved
        record is returned when there is one. A term's parents are created and linked when it is saved.
        """
        if len(lookup) != 1:
            raise InvalidArgument(
                f"{cls.__name__}.from_source() takes one field to look up, e.g. "
                f"{cls.__name__}.from_source({cls._id_field}=...)"
            )
        ((field, value),) = lookup.items()
        field = _field_name(cls, field)
        organism_record_ = cls._organism_for_records(organism)
        existing = cls._existing(field, [value], getattr(organism_record_, "id", None))
        if value in existing:
            return existing[value]
        public = cls.public(organism=organism, source=source)
        try:
            row = public.get(value, field=field)
        except DoesNotExist:
            standardized = public.standardize([value], field=field)[0] if field != cls._id_field else value
            if standardized == value:
                raise DoesNotExist(
                    f"no {cls.__name__} with {field}={value!r} in {public.source} {public.version}; "
                    f"search it with {cls.__name__}.public().search({value!r})"
                ) from None
            row = public.get(standardized, field=field)
        record = cls._record_from_row(row, public, organism_record_)
        return record

    @classmethod
    def _inferred_organism(cls, field_name: str, values: list[Any]) -> str | None:
        """The organism that Ensembl gene ids name themselves, when none is given or set (as bionty
        infers it: `bt.Gene.from_values(["ENSG00000010610"], field=bt.Gene.ensembl_gene_id)` is human)."""
        if not cls._needs_organism or field_name != "ensembl_gene_id" or bionty_settings.settings.organism:
            return None
        return sources.gene_organism_of(values)

    @classmethod
    def _organism_for_records(cls, organism: Any) -> Any:
        if "organism_id" not in cls.__table__.c:  # type: ignore[attr-defined]
            return None
        name = cls._organism_name(organism)
        if name is None:
            if cls._needs_organism:
                raise InvalidArgument(
                    f"{cls.__name__} needs an organism: pass organism='human' or set bt.settings.organism = 'human'"
                )
            return None
        return organism if not isinstance(organism, str | type(None)) else organism_record(name)

    @classmethod
    def from_values(
        cls,
        values: Iterable[Any] | Any,
        field: Any = None,
        *,
        create: bool = False,
        type: Any = None,
        mute: bool = False,
        organism: Any = None,
        source: Any = None,
    ) -> RecordList:
        """Records for `values` of `field`: saved ones first, then new ones from the public source.

        Synonyms (of the source, and those added to saved records) resolve to their standard term;
        values found nowhere are reported, or, with `create=True`, become new records.
        """
        with gc_paused():
            return cls._from_values(values, field, create, type, mute, organism, source)

    @classmethod
    def _from_values(
        cls, values: Any, field: Any, create: bool, type: Any, mute: bool, organism: Any, source: Any
    ) -> RecordList:
        field_name = _field_name(cls, field if field is not None else cls._default_field())
        items = _distinct(values)
        if organism is None:
            organism = cls._inferred_organism(field_name, items)
        organism_record_ = cls._organism_for_records(organism)
        organism_id = getattr(organism_record_, "id", None)
        existing = cls._existing(field_name, items, organism_id)
        missing = [v for v in items if v not in existing]
        created: dict[Any, Any] = {}
        unknown: list[Any] = []
        if missing:
            public = cls.public(organism=organism, source=source)
            table = public.to_dataframe()
            rows = _Rows(table, field_name, public)
            standard_of = {v: v for v in missing if v in rows}
            still = [v for v in missing if v not in standard_of]
            if still:
                standardized = public.standardize(still, field=field_name)
                synonyms = {v: s for v, s in zip(still, standardized, strict=True) if s != v}
                saved_synonyms = cls._existing(field_name, list(set(synonyms.values())), organism_id)
                for value, standard in synonyms.items():
                    if standard in saved_synonyms:
                        existing[value] = saved_synonyms[standard]
                    elif standard in rows:
                        standard_of[value] = standard
            by_field = rows.many([standard_of[v] for v in missing if v in standard_of and v not in existing])
            for value in missing:
                if value in existing:
                    continue
                row = by_field.get(standard_of.get(value))
                if row is None:
                    unknown.append(value)
                    continue
                identifier = row.get(cls._id_field)
                made = created.get(identifier) if identifier is not None else None
                if made is None:
                    made = cls._record_from_row(row, public, organism_record_)
                    if identifier is not None:
                        created[identifier] = made
                existing[value] = made
        if unknown:  # saved records may know them by a synonym added by hand, or by case
            for record in super().from_values(unknown, field_name, type=type, mute=True):  # type: ignore[misc]
                matched = [v for v in unknown if v not in existing]
                names = {getattr(record, field_name), *((getattr(record, "synonyms", None) or "").split("|"))}
                for value in matched:
                    if value in names or str(value).lower() in {str(n).lower() for n in names}:
                        existing[value] = record
            unknown = [v for v in unknown if v not in existing]
        if unknown and create:
            for value in unknown:
                existing[value] = cls(**{field_name: value})
            unknown = []
        if unknown and not mute:
            shown = ", ".join(repr(v) for v in unknown[:10]) + (" …" if len(unknown) > 10 else "")
            logger.warning(
                f"{len(unknown)} value(s) are neither saved nor in the public source of "
                f"{cls.__name__}: {shown}; create them with {cls.__name__}(...)"
            )
        records: list[Any] = []
        seen: set[int] = set()
        for value in items:
            record = existing.get(value)
            if record is not None and id(record) not in seen:
                seen.add(id(record))
                records.append(record)
        return RecordList(records)

    @classmethod
    def standardize(
        cls,
        values: Any,
        field: Any = None,
        *,
        return_field: Any = None,
        return_mapper: bool = False,
        case_sensitive: bool = False,
        keep: Literal["first", "last", False] = "first",
        synonyms_field: str | None = "synonyms",
        mute: bool = False,
        organism: Any = None,
        source: Any = None,
    ) -> Any:
        """Map synonyms and case variants to standard values: saved records first, then the public source.

        `bt.Gene.standardize(["cd8a"], field=bt.Gene.symbol, return_field=bt.Gene.ensembl_gene_id)`.
        Returns the values in the type they came in, or with `return_mapper=True` the changed ones.
        """
        name = _field_name(cls, field if field is not None else cls._default_field())
        out_name = name if return_field is None else _field_name(cls, return_field)
        mapper: dict[Any, Any] = super().standardize(  # type: ignore[misc]
            values,
            name,
            return_field=out_name,
            return_mapper=True,
            case_sensitive=case_sensitive,
            keep=keep,
            synonyms_field=synonyms_field,
            mute=True,
        )
        items = _distinct(values)
        saved = cls._existing(name, items) if out_name != name else {}
        todo = [v for v in items if v not in mapper and v not in saved]
        if todo:
            public = cls.public(organism=organism, source=source)
            mapped = public.standardize(
                todo, field=name, return_field=out_name, case_sensitive=case_sensitive, keep=keep
            )
            for value, target in zip(todo, mapped, strict=True):
                if target != value and (out_name != name or target is not None):
                    mapper[value] = target
        if out_name != name:
            for value, record in saved.items():
                mapper.setdefault(value, getattr(record, out_name))
        if not mute and mapper:
            pairs = ", ".join(f"{k!r} → {v!r}" for k, v in list(mapper.items())[:10])
            logger.info(f"standardized {len(mapper)} value(s): {pairs}")
        if return_mapper:
            return mapper
        if isinstance(values, str):
            return mapper.get(values, values)
        result = [mapper.get(v, v) for v in (values.tolist() if hasattr(values, "tolist") else list(values))]
        return (
            type(values)(result, index=values.index, name=values.name)
            if hasattr(values, "index") and hasattr(values, "name")
            else result
        )

    @classmethod
    def import_source(cls, organism: Any = None, source: Any = None) -> RecordList:
        """Every term of the public source in the registry, in bulk (ontology terms with their parents)."""
        public = cls.public(organism=organism, source=source)
        table = public.to_dataframe()
        records = cls.from_values(
            list(table.index), field=cls._id_field, organism=organism, source=source, mute=True
        )
        save_records(records)
        _source_record(cls, public, in_db=True)
        return records

    @classmethod
    def _save_many(cls, group: list[Any]) -> list[Any]:
        """`ln.save(records)`: their sources first, then one insert; terms identified by their id, not name."""
        sources_by_public: dict[Any, Any] = {}
        for record in group:
            public = record.__dict__.pop("_lamella_public", None)
            if public is not None and record.__dict__.get("source_id") is None:
                source = sources_by_public.get(public)
                if source is None:
                    source = sources_by_public[public] = _source_record(cls, public)
                _relate(record, "source", source)
        save_rows(cls, group, by_name=False)
        cls._after_save_many(group)
        for record in group:
            record.__dict__.pop("_lamella_public_source", None)
        return group

    @classmethod
    def _after_save_many(cls, group: list[Any]) -> None:
        return None

    def save(self, *args: Any, **kwargs: Any) -> Self:
        self.__dict__.pop("_lamella_public_source", None)
        public = self.__dict__.pop("_lamella_public", None)
        if public is not None and getattr(self, "source_id", None) is None:
            self.source = _source_record(type(self), public)
        saved = super().save(*args, **kwargs)  # type: ignore[misc]
        return saved


class OntologyRegistry(BioRegistry):
    """Ontology terms: parents from the source, recursive parent and child queries."""

    @classmethod
    def _record_from_row(cls, row: dict[str, Any], public: Any, organism: Any) -> Any:
        record = super()._record_from_row(row, public, organism)
        parents = row.get("parents")
        if parents is not None and len(parents):
            record.__dict__[_PARENTS] = [str(p) for p in parents]
        return record

    @classmethod
    def _fields_from_row(cls, row: dict[str, Any]) -> dict[str, Any]:
        fields = super()._fields_from_row(row)
        fields.pop("parents", None)
        return fields

    def save(self, *args: Any, **kwargs: Any) -> Self:
        if self.__dict__.get("id") is None and self.__dict__.get(_PARENTS):
            type(self)._save_many([self])  # the term and its ancestors, in bulk
            return self
        return super().save(*args, **kwargs)

    @classmethod
    def _after_save_many(cls, group: list[Any]) -> None:
        """Link saved terms to their parents from the source, creating the parents that are missing."""
        pending = {r.id: r.__dict__.pop(_PARENTS) for r in group if r.__dict__.get(_PARENTS) and r.id}
        sources_ = [r.__dict__.pop("_lamella_public_source", None) for r in group]
        if not pending:
            return
        source = next((s for s in sources_ if s is not None), None)
        wanted = sorted({p for parents in pending.values() for p in parents})
        known = {r.ontology_id: r for r in group if r.ontology_id and r.__dict__.get("id")}
        known.update(cls._existing("ontology_id", [p for p in wanted if p not in known]))
        missing = [p for p in wanted if p not in known]
        if missing:
            made = cls.from_values(missing, field="ontology_id", source=source, mute=True)
            new = [r for r in made if r.__dict__.get("id") is None]
            if new:
                cls._save_many(new)  # recursion: their own parents next
            known.update({r.ontology_id: r for r in made})
        link = cls.parents.link_model  # type: ignore[attr-defined]
        session = state.current().db.session()
        present = {
            (child, parent)
            for child, parent in session.execute(
                select(link.child_id, link.parent_id).where(link.child_id.in_(list(pending)))
            )
        }
        rows = [
            {"child_id": child, "parent_id": known[p].id, "created_at": utcnow()}
            for child, parents in pending.items()
            for p in parents
            if p in known and (child, known[p].id) not in present
        ]
        if rows:
            with state.current().db.write() as write_session:
                write_session.execute(link.__table__.insert(), rows)

    def query_parents(self) -> Any:
        """Every ancestor (parents, their parents, ...) as a QuerySet."""
        return self._closure("parents")

    def query_children(self) -> Any:
        """Every descendant (children, their children, ...) as a QuerySet."""
        return self._closure("children")

    def _closure(self, relation: str) -> Any:
        self._require_saved(f"query the {relation} of")  # type: ignore[attr-defined]
        seen: set[int] = set()
        frontier = [self.id]  # type: ignore[attr-defined]
        link = getattr(type(self), relation).link_model
        mine, theirs = ("child_id", "parent_id") if relation == "parents" else ("parent_id", "child_id")
        session = state.current().db.session()
        while frontier:
            rows = session.execute(
                select(getattr(link, theirs)).where(getattr(link, mine).in_(frontier))
            ).scalars()
            frontier = [i for i in rows if i not in seen]
            seen.update(frontier)
        return type(self).filter(id__in=sorted(seen))  # type: ignore[attr-defined]


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and value != value:
        return False
    return not (hasattr(value, "__len__") and not isinstance(value, str) and len(value) == 0)


def _distinct(values: Any) -> list[Any]:
    if isinstance(values, str):
        values = [values]
    seen: dict[Any, None] = {}
    for value in values:
        if value is not None and not (isinstance(value, float) and value != value):
            seen.setdefault(value, None)
    return list(seen)


def _relate(record: Any, name: str, target: Any) -> None:
    """Set a to-one relation to a saved record by its id, without the ORM's cascade walk (bulk speed)."""
    if instance_state(record).key is None:
        record.__dict__[f"{name}_id"] = target.id  # not tracked yet: the INSERT reads its state
    else:
        setattr(record, f"{name}_id", target.id)
    set_committed_value(record, name, target)


class _Rows:
    """The public table by the value of `field`; rows become dicts only when asked for (tables are big)."""

    def __init__(self, table: Any, field: str, public: Any) -> None:
        frame = table.reset_index()
        if field not in frame.columns:
            fields = ", ".join(map(str, frame.columns))
            raise InvalidArgument(
                f"the public source {public.source} has no field {field!r}; fields: {fields}"
            )
        self._field = field
        self._frame = frame[frame[field].notna()].drop_duplicates(field).set_index(field, drop=False)
        self._index = self._frame.index

    def __contains__(self, value: Any) -> bool:
        return value is not None and value in self._index

    def many(self, values: list[Any]) -> dict[Any, dict[str, Any]]:
        keys = list(dict.fromkeys(v for v in values if v in self))
        if not keys:
            return {}
        return {row[self._field]: row for row in self._frame.loc[keys].to_dict("records")}


def organism_record(name: str) -> Any:
    """The saved organism of that name, created from the public source on first use."""
    organism_model = model("Organism")  # by name: the registries are defined on top of this module
    found = organism_model._existing("name", [name])
    if name in found:
        return found[name]
    try:
        return organism_model.from_source(name=name).save()
    except DoesNotExist:
        raise InvalidArgument(
            f"unknown organism {name!r}; see bt.Organism.public().to_dataframe() for the organisms "
            f"Lamella knows, or create it with bt.Organism(name={name!r}, ontology_id=...).save()"
        ) from None


def _source_record(registry: type, public: tuple[str, str, str | None] | Any, in_db: bool = False) -> Any:
    """The saved `bt.Source` of a public source (one per entity, organism, name and version)."""
    source_model = model("Source")
    if isinstance(public, tuple):
        name, version, organism = public
    else:
        name, version, organism = public.source, public.version, public.organism
    entity = f"bionty.{registry.__name__}"
    organism = organism or "all"
    cache = state.process.module_caches.setdefault("bionty_sources", {})
    key = (state.current().config.uid, entity, organism, name, version)
    source_id = cache.get(key)
    session = state.current().db.session()
    if source_id is not None:
        record = session.get(source_model, source_id)
        if record is not None and (not in_db or record.in_db):
            return record
    record = session.execute(
        select(source_model).where(
            source_model.entity == entity,
            source_model.organism == organism,
            source_model.name == name,
            source_model.version == version,
        )
    ).scalar_one_or_none()
    if record is None:
        record = source_model(
            entity=entity, organism=organism, name=name, version=version, currently_used=True
        )
    if in_db:
        record.in_db = True
    record = record.save()
    cache[key] = record.id
    return record
