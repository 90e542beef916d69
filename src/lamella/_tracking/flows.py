"""`@ln.flow()` and `@ln.step()`: a workflow written as Python functions (LaminDB 2.x).

A flow is a function tracked as a transform of kind "pipeline"; each call is a run with the call's
arguments as params, initiated by the run that was current (if any), finished with its status and
environment. By default (`global_run="clear"`) the call also is `ln.context`'s run while it lasts, as
if the function had called `ln.track()`: threads it starts and code that reads `ln.context.run` see it;
`"memorize"` leaves it there after the call, `"none"` keeps it to the call (concurrent flows in one
process). Arguments named `project`, `space` or `branch` also act as `ln.track()`'s
(`track_arg_aliases`).

A step is a function called inside a flow (or a tracked script): a transform of kind "function" whose
calls are runs initiated by the calling run, like `@ln.tracked()`; calling one outside any run is an
error.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, overload

from lamella._instance import state
from lamella._setup.settings import settings
from lamella._tracking.context import RunOptions, context, start_run
from lamella._tracking.decorator import (
    bound_arguments,
    call_params,
    end_function_run,
    start_function_run,
    transform_id_of,
    wrap_calls,
)
from lamella._tracking.environment import save_environment
from lamella.errors import InvalidArgument
from lamella.models import Transform

F = TypeVar("F", bound=Callable[..., Any])
GlobalRun = Literal["clear", "memorize", "none"]
GLOBAL_RUN_MODES = ("clear", "memorize", "none")
TRACK_ARG_ALIASES = ("project", "space", "branch")


def _context_values() -> tuple[Any, ...]:
    return (
        context.transform,
        context.run,
        context.project,
        context.branch,
        context.space,
        context._instance_uid,
    )


def _set_context(values: tuple[Any, ...]) -> None:
    (
        context.transform,
        context.run,
        context.project,
        context.branch,
        context.space,
        context._instance_uid,
    ) = values


@overload
def flow(uid: F) -> F: ...


@overload
def flow(
    uid: str | None = None, global_run: GlobalRun = "clear", track_arg_aliases: bool = True
) -> Callable[[F], F]: ...


def flow(uid: Any = None, global_run: GlobalRun = "clear", track_arg_aliases: bool = True) -> Any:
    """Track each call of the decorated function (sync or async) as a run of a workflow.

    `uid` pins the transform (16 characters); `global_run` ("clear", "memorize", "none") says whether
    the call is `ln.context`'s run; with `track_arg_aliases`, arguments named project, space and branch
    act as `ln.track()`'s (and are params too).
    """
    if callable(uid):  # @ln.flow without parentheses
        return flow()(uid)
    if global_run not in GLOBAL_RUN_MODES:
        raise InvalidArgument(f"flow(global_run={global_run!r}): use one of {', '.join(GLOBAL_RUN_MODES)}")

    def decorator(func: F) -> F:
        signature = inspect.signature(func)

        def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> state.RunScope:
            instance = state.current()
            if instance.read_only:
                raise instance.db.read_only_error("track a flow run")
            aliases: dict[str, Any] = {}
            if track_arg_aliases:
                arguments = bound_arguments(signature, args, kwargs)
                aliases = {
                    name: arguments[name] for name in TRACK_ARG_ALIASES if arguments.get(name) is not None
                }
            options = RunOptions.resolve(**aliases)
            options.params = call_params(signature, args, kwargs)
            transform = Transform.get(
                transform_id_of(func, uid if isinstance(uid, str) else None, "pipeline")
            )
            run = start_run(transform, options, initiated_by=state.current_run())
            # what the flow's records inherit: its own project, branch and space, else the caller's
            scope = state.RunScope(
                run,
                instance.config.uid,
                project=options.project if options.project is not None else state.current_project(),
                branch_id=options.branch_id if options.branch is not None else state.current_branch_id(),
                space_id=options.space_id if options.space is not None else state.current_space_id(),
            )
            if global_run != "none":
                scope.restore = _context_values()
                _set_context(
                    (transform, run, options.project, options.branch, options.space, instance.config.uid)
                )
            return scope

        def end(scope: state.RunScope, status: str) -> None:
            run = scope.run
            environment = save_environment(settings.cache_dir / "environments" / run.uid)
            run.finished_at = datetime.now(UTC)
            run.status = status
            run.environment_id = environment.id
            run.save()
            if global_run == "clear" and scope.restore is not None:
                _set_context(scope.restore)

        return wrap_calls(func, start, end)

    return decorator


@overload
def step(uid: F) -> F: ...


@overload
def step(uid: str | None = None) -> Callable[[F], F]: ...


def step(uid: Any = None) -> Any:
    """Track each call of the decorated function as a step of the current flow (or tracked run).

    Like `@ln.tracked()`, except that a call outside any run raises `InvalidArgument`.
    """
    if callable(uid):  # @ln.step without parentheses
        return step()(uid)

    def decorator(func: F) -> F:
        signature = inspect.signature(func)
        name = getattr(func, "__qualname__", getattr(func, "__name__", "the step"))

        def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> state.RunScope:
            if state.current_run() is None:
                raise InvalidArgument(
                    f"step {name}() runs inside a run: call it from an @ln.flow() function, or after ln.track()"
                )
            return start_function_run(func, uid, signature, args, kwargs)

        return wrap_calls(func, start, end_function_run)

    return decorator
