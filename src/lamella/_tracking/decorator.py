"""`@ln.tracked()`: every call of a function is a Run of the function's Transform.

The run's params are the call's arguments (defaults included); `initiated_by_run` is the run that
was current when the function was called (a script's, or an enclosing tracked function's). The
current run lives in a context variable, so nested calls, threads and asyncio tasks each see
their own. An exception marks the run errored and propagates unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from lamella._instance import state
from lamella._tracking.jsonable import to_jsonable
from lamella._tracking.redact import redact_params, redact_source
from lamella._tracking.transforms import source_hash, transform_for_source
from lamella.errors import DoesNotExist, InvalidArgument
from lamella.models import Run, Transform

F = TypeVar("F", bound=Callable[..., Any])


def _function_key(func: Callable[..., Any]) -> str:
    try:
        file = Path(inspect.getsourcefile(func) or "").name
    except TypeError:
        file = ""
    qualname = getattr(func, "__qualname__", getattr(func, "__name__", "function"))
    return f"{file}:{qualname}" if file else qualname


def _function_source(func: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(func)
    except (OSError, TypeError):
        return f"# source of {_function_key(func)} is not available\n"


def transform_id_of(func: Callable[..., Any], uid: str | None, kind: str = "function") -> int:

    instance = state.current()
    cache_key = (instance.config.uid, func)
    transform_id = state.process.tracked_transforms.get(cache_key)
    if transform_id is None:
        if uid is not None:
            transform = _pinned_transform(func, uid, kind)
        else:
            transform, _ = transform_for_source(_function_key(func), kind, _function_source(func))
        transform_id = state.process.tracked_transforms[cache_key] = transform.id
    return transform_id


def _pinned_transform(func: Callable[..., Any], uid: str, kind: str) -> Any:
    """`@ln.tracked(uid=...)`: the transform with that uid, created with it on first use."""

    if len(uid) != Transform._uid_length:
        raise InvalidArgument(f"tracked(uid={uid!r}): a transform uid has {Transform._uid_length} characters")
    try:
        return Transform.get(uid)
    except DoesNotExist:
        source = redact_source(_function_source(func))
        transform = Transform(
            key=_function_key(func), kind=kind, source_code=source, hash=source_hash(source)
        )
        transform.uid = uid
        transform.branch_id = state.MAIN_BRANCH  # lineage stays on main, whatever branch the run uses
        return transform.save()


def call_params(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:

    params = {}
    for name, value in bound_arguments(signature, args, kwargs).items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            params.update(value)
        else:
            params[name] = value
    return redact_params(to_jsonable(params))


def bound_arguments(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The call's arguments by parameter name, defaults included ({} if they do not bind)."""
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {}
    bound.apply_defaults()
    return dict(bound.arguments)


def start_function_run(
    func: Callable[..., Any],
    uid: str | None,
    signature: inspect.Signature,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    kind: str = "function",
) -> state.RunScope:
    """A started run of `func` initiated by the current run; its scope inherits that run's project,
    branch and space."""

    parent = state.current_run()
    run = Run(
        transform_id=transform_id_of(func, uid, kind),
        params=call_params(signature, args, kwargs),
        started_at=datetime.now(UTC),
        status="started",
        initiated_by_run_id=parent.id if parent is not None else None,
    )
    run.save()
    return state.RunScope(
        run,
        state.current().config.uid,
        project=state.current_project(),
        branch_id=state.current_branch_id(),
        space_id=state.current_space_id(),
    )


def end_function_run(scope: state.RunScope, status: str) -> None:
    run = scope.run
    run.finished_at = datetime.now(UTC)
    run.status = status
    run.save()


Start = Callable[[tuple[Any, ...], dict[str, Any]], state.RunScope]
End = Callable[[state.RunScope, str], None]


def wrap_calls(func: F, start: Start, end: End) -> F:
    """`func` (sync or async) with each call run inside the scope `start` returns; `end` records how
    the call ended ("completed", "errored", "aborted"). Exceptions propagate unchanged."""

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            scope = start(args, kwargs)
            token = state.function_run.set(scope)
            try:
                result = await func(*args, **kwargs)
            except BaseException as error:
                end(scope, "aborted" if isinstance(error, KeyboardInterrupt) else "errored")
                raise
            finally:
                state.function_run.reset(token)
            end(scope, "completed")
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = start(args, kwargs)
        token = state.function_run.set(scope)
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            end(scope, "aborted" if isinstance(error, KeyboardInterrupt) else "errored")
            raise
        finally:
            state.function_run.reset(token)
        end(scope, "completed")
        return result

    return wrapper  # type: ignore[return-value]


def tracked(uid: str | None = None) -> Callable[[F], F]:
    """Track each call of the decorated function (sync or async) as a run; `uid` pins its transform."""

    def decorator(func: F) -> F:
        signature = inspect.signature(func)

        def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> state.RunScope:
            return start_function_run(func, uid, signature, args, kwargs)

        return wrap_calls(func, start, end_function_run)

    return decorator
