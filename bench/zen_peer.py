"""The benchmark peer: spinepath's option rules expressed as a GoRules ZEN decision graph.

Translated mechanically from the same compiled plan (no hand-written second copy of any rule):
- one expression node computes every derived fact and every criterion, in dependency order,
  with Kleene three-valued logic spelled out as null guards (ZEN raises on comparisons with null);
- one decision table per procedure (hit policy "first") whose rows are the status algorithm's
  steps, one row per rule, in the order of ``spinepath.rules.status.decide``.
The graph's input is the case's base facts (extracted in Python, as any ZEN caller would have
to); its output is each procedure's status. Agreement with spinepath is measured, not assumed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlglot import exp

from spinepath.rules.plan import Plan, ProcedurePlan, Rule


def _lit(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "\\'") + "'"


class _Tr:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.derived = set(plan.derived_map)

    def atom(self, name: str) -> str:
        if name in self.plan.params:
            return _lit(self.plan.params[name])
        return f"$.{name}" if name in self.derived else name

    def tr(self, n: exp.Expression) -> str:  # noqa: C901 - one branch per allowed node type
        if isinstance(n, exp.Paren):
            return self.tr(n.this)
        if isinstance(n, exp.Column):
            return self.atom(n.name)
        if isinstance(n, exp.Boolean):
            return "true" if n.this else "false"
        if isinstance(n, exp.Literal):
            return n.this if not n.is_string else _lit(n.this)
        if isinstance(n, exp.Neg):
            x = self.tr(n.this)
            return f"(({x}) == null ? null : -({x}))"
        if isinstance(n, exp.Not):
            x = self.tr(n.this)
            return f"(({x}) == null ? null : ({x}) == false)"
        if isinstance(n, (exp.And, exp.Or)):
            parts = []
            stack = [n]
            while stack:
                m = stack.pop()
                if isinstance(m, type(n)):
                    stack += [m.expression, m.this]
                else:
                    parts.append(self.tr(m))
            decisive, other = ("false", "true") if isinstance(n, exp.And) else ("true", "false")
            any_dec = " or ".join(f"({p}) == {decisive}" for p in parts)
            any_null = " or ".join(f"({p}) == null" for p in parts)
            return f"(({any_dec}) ? {decisive} : (({any_null}) ? null : {other}))"
        ops = {exp.EQ: "==", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
               exp.Add: "+", exp.Sub: "-", exp.Mul: "*"}
        for kind, op in ops.items():
            if isinstance(n, kind):
                a, b = self.tr(n.left), self.tr(n.right)
                return f"((({a}) == null or ({b}) == null) ? null : (({a}) {op} ({b})))"
        if isinstance(n, exp.In):
            a = self.tr(n.this)
            opts = ", ".join(self.tr(o) for o in n.expressions)
            return f"(({a}) == null ? null : (({a}) in [{opts}]))"
        if isinstance(n, exp.Between):
            a, lo, hi = self.tr(n.this), self.tr(n.args["low"]), self.tr(n.args["high"])
            return self.tr(exp.and_(exp.GTE(this=n.this, expression=n.args["low"]),
                                    exp.LTE(this=n.this, expression=n.args["high"]))) if (a and lo and hi) else ""
        raise ValueError(f"cannot translate {n.sql()}")


def _key(r: Rule) -> str:
    return "r_" + r.rule.replace(".", "__").replace("-", "_")


def _table(pp: ProcedurePlan, deferred_key: str, unscreened_key: str) -> dict[str, Any]:
    cols: list[tuple[str, str]] = []  # (input id, field)

    def col(field: str) -> str:
        for cid, f in cols:
            if f == field:
                return cid
        cid = f"i{len(cols)}"
        cols.append((cid, field))
        return cid

    rows: list[tuple[dict[str, str], str]] = []

    def row(cells: dict[str, str], status: str) -> None:
        rows.append(({col(f): c for f, c in cells.items()}, status))

    row({deferred_key: "true"}, "deferred")
    row({_key(pp.applies): "false"}, "not_indicated")
    row({_key(pp.applies): "null"}, "insufficient_information")
    for r in pp.exclusions:
        row({_key(r): "true"}, "not_indicated")
    for r in pp.indications:
        row({_key(r): "false"}, "not_indicated")
    for r in pp.absolute:
        row({_key(r): "true"}, "contraindicated")
    for r in pp.indications:
        row({_key(r): "null"}, "insufficient_information")
    for r in pp.prerequisites:
        row({_key(r): "false"}, "not_yet")
    if pp.repeat_when:
        for r in pp.repeat:
            row({_key(pp.repeat_when): "true", _key(r): "false"}, "not_yet")
    for r in pp.prerequisites:
        row({_key(r): "null"}, "insufficient_information")
    if pp.proc.max_status == "recommended":
        cells = {_key(r): "true" for r in pp.recommend}
        cells[unscreened_key] = "false"
        for r in [*pp.absolute, *pp.exclusions]:
            cells[_key(r)] = "!= null"
        for r in pp.relative:
            cells[_key(r)] = "!= true"
        if pp.repeat_when:
            # settled: not done before, or done before and every repeat rule known
            cells[_key(pp.repeat_when)] = "false"
            row(dict(cells), "recommended")
            cells[_key(pp.repeat_when)] = "true"
            for r in pp.repeat:
                cells[_key(r)] = "!= null"
        row(cells, "recommended")
    row({}, "consider")
    all_cols = [c for c, _ in cols]
    return {
        "hitPolicy": "first",
        "inputs": [{"id": c, "name": f, "field": f} for c, f in cols],
        "outputs": [{"id": "o", "name": pp.proc.id, "field": pp.proc.id}],
        "rules": [
            {"_id": f"row{i}", **{c: cells.get(c, "") for c in all_cols}, "o": _lit(status)}
            for i, (cells, status) in enumerate(rows)
        ],
    }


def build_graph(plan: Plan) -> dict[str, Any]:
    tr = _Tr(plan)
    exprs: list[dict[str, str]] = []
    for name, crit in plan.derived:
        exprs.append({"id": f"d_{name}", "key": name, "value": tr.tr(crit._tree)})
    for r in plan.decision_rules().values():
        exprs.append({"id": _key(r), "key": _key(r), "value": tr.tr(r.expr._tree)})
    all_flags = [rfp for rfp in plan.red_flags
                 if rfp.flag.urgency in ("emergency", "urgent") or rfp.flag.defers == "all_elective"]
    defer_all = [f for rfp in all_flags for f in rfp.features]
    any_flag = " or ".join(f"$.{_key(f)} == true" for f in defer_all) or "false"
    exprs.append({"id": "deferred_all", "key": "deferred_all", "value": f"({any_flag})"})
    any_null = " or ".join(f"$.{_key(f)} == null" for f in defer_all) or "false"
    exprs.append({"id": "unscreened_all", "key": "unscreened_all", "value": f"({any_null})"})
    nodes: list[dict[str, Any]] = [
        {"id": "in", "type": "inputNode", "name": "input", "position": {"x": 0, "y": 0}},
        {"id": "crit", "type": "expressionNode", "name": "criteria", "position": {"x": 0, "y": 0},
         "content": {"expressions": exprs, "passThrough": True}},
        {"id": "out", "type": "outputNode", "name": "output", "position": {"x": 0, "y": 0}},
    ]
    edges = [{"id": "e0", "sourceId": "in", "targetId": "crit", "type": "edge"}]
    for i, pp in enumerate(plan.procedures):
        some = [f for rfp in plan.red_flags if isinstance(rfp.flag.defers, list) and pp.proc.id in rfp.flag.defers
                and rfp not in all_flags for f in rfp.features]
        key, ukey = "deferred_all", "unscreened_all"
        if some:
            key, ukey = f"deferred_{i}", f"unscreened_{i}"
            exprs.append({"id": key, "key": key,
                          "value": "($.deferred_all or " + " or ".join(f"$.{_key(f)} == true" for f in some) + ")"})
            exprs.append({"id": ukey, "key": ukey,
                          "value": "($.unscreened_all or " + " or ".join(f"$.{_key(f)} == null" for f in some) + ")"})
        nid = f"t{i}"
        nodes.append({"id": nid, "type": "decisionTableNode", "name": pp.proc.id, "position": {"x": 0, "y": 0},
                      "content": _table(pp, key, ukey)})
        edges.append({"id": f"a{i}", "sourceId": "crit", "targetId": nid, "type": "edge"})
        edges.append({"id": f"b{i}", "sourceId": nid, "targetId": "out", "type": "edge"})
    return {"nodes": nodes, "edges": edges}


def graph_json(plan: Plan) -> str:
    return json.dumps(build_graph(plan))
