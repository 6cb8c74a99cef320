"""Tables, sofas, benches and cabinets (y up, front +x, long axis of tables/sofas/benches z).

Units are roughly metres before normalisation; every style switch is drawn from the rng.
"""

from __future__ import annotations

import numpy as np

from vitocc.data.synth import materials as mat
from vitocc.data.synth import primitives as P
from vitocc.data.synth.shape import Shape, choose


def corner_legs(s: Shape, rng, x: float, z: float, top: float, material: int, splay: float = 0.0,
                style: str | None = None, thick: float | None = None) -> str:
    """Four legs under the corners (+-x, +-z) from the floor to `top`; returns the leg style."""
    style = style or str(rng.choice(["round", "square", "tapered"]))
    thick = thick if thick is not None else rng.uniform(0.02, 0.05)
    for sx in (-1, 1):
        for sz in (-1, 1):
            leg(s, (sx * (x + splay), 0.0, sz * (z + splay)), (sx * x, top, sz * z), thick, style, material)
    return style


def leg(s: Shape, foot, head, thick: float, style: str, material: int) -> None:
    """One leg from `foot` to `head` (3,), `thick` across: "square" (a box section), "tapered" (a
    frustum, thinner at the foot) or "round" (a cylinder)."""
    if style == "square":
        s.add(np.concatenate([P.box(foot, (thick, 1e-3, thick)), P.box(head, (thick, 1e-3, thick))]), material)
    elif style == "tapered":
        s.add(P.frustum(foot, head, thick * 0.35, thick * 0.6, 12), material)
    else:
        s.add(P.cylinder(foot, head, thick / 2, 12), material)


TABLE_BASES = {  # base: probability, for rectangular tops (round and oval tops: ROUND_TABLE_BASES)
    "legs": 0.26,  # 4 legs, maybe splayed, apron, low stretchers, a shelf
    "frame": 0.1,  # thin square-tube frame: legs, apron and stretchers
    "hairpin": 0.07,  # thin bent-rod V legs
    "sawhorse": 0.07,  # A-shaped leg pairs at both ends and a stretcher
    "trestle": 0.1,  # a post on a foot at each end, a stretcher
    "panels": 0.11,  # panel ends, maybe a modesty panel
    "desk": 0.1,  # a drawer block at one end
    "pedestal": 0.08,  # one or two columns on feet or discs
    "x": 0.11,  # crossed legs at both ends
}
ROUND_TABLE_BASES = {"pedestal": 0.5, "legs": 0.3, "tripod": 0.2}
TABLE_TOPS = {"rect": 0.65, "round": 0.25, "oval": 0.1}  # top: probability


def table(rng: np.random.Generator, base: str | None = None) -> Shape:
    """Tables and desks: rectangular, oval or round tops (some of glass) on a base of `TABLE_BASES`
    (`ROUND_TABLE_BASES` under round and oval tops); dining, coffee and bar heights."""
    s = Shape()
    top_m = s.material(mat.pick(rng, wood=4, paint=1, light=1, dark=1))
    base_m = top_m if rng.random() < 0.5 else s.material(mat.pick(rng, wood=2, metal=2, dark=1, paint=1))
    h = float(rng.choice([rng.uniform(0.68, 0.8), rng.uniform(0.35, 0.5), rng.uniform(0.9, 1.05)], p=[0.7, 0.2, 0.1]))
    t = rng.uniform(0.02, 0.07)
    if base is None:
        shape = choose(rng, TABLE_TOPS)
        base = choose(rng, TABLE_BASES if shape == "rect" else ROUND_TABLE_BASES)
    else:
        shape = "rect" if base in TABLE_BASES else "round"
    s.style = base
    if base in ("frame", "hairpin", "x", "tripod") and rng.random() < 0.3:  # a glass plate on a thin base
        top_m, t = s.material(mat.glass(rng)), rng.uniform(0.008, 0.016)
        base_m = s.material(mat.pick(rng, metal=3, dark=2))
    if shape == "round":
        length = depth = rng.uniform(0.6, 1.3)
        s.add(P.cylinder((0, h - t, 0), (0, h, 0), length / 2, 36), top_m)
    else:
        length, depth = rng.uniform(0.9, 2.2), rng.uniform(0.5, 1.0)
        if shape == "oval":
            a = np.linspace(0, 2 * np.pi, 40, endpoint=False)
            s.add(P.prism(np.stack([depth / 2 * np.cos(a), length / 2 * np.sin(a)], 1), "y", h - t, h), top_m)
        else:
            s.add(P.rounded_box((0, h - t / 2, 0), (depth, t, length), rng.choice([0.003, t / 2.2, 0.04])), top_m)

    hx, hz = depth / 2 * rng.uniform(0.72, 0.92), length / 2 * rng.uniform(0.72, 0.94)
    if shape != "rect":
        hx = hz = min(depth, length) / 2 * 0.6
    under = h - t + 0.005  # just into the top
    if base == "legs":
        splay = rng.uniform(0.03, 0.08) if rng.random() < 0.25 else 0.0
        corner_legs(s, rng, hx - splay * 0.5, hz - splay * 0.5, h - t / 2, base_m, splay=splay)
        if rng.random() < 0.5 and shape == "rect":  # apron
            ah = rng.uniform(0.05, 0.12)
            for x in (-hx, hx):
                s.add(P.box((x, h - t - ah / 2 + 0.005, 0), (0.02, ah, 2 * hz)), base_m)
            s.add(P.box((0, h - t - ah / 2 + 0.005, hz), (2 * hx, ah, 0.02)), base_m, mirror_z=True)
        if rng.random() < 0.2:  # lower shelf
            s.add(P.box((0, rng.uniform(0.1, 0.25), 0), (2 * hx + 0.03, 0.02, 2 * hz + 0.03)), top_m)
        elif rng.random() < 0.3 and splay == 0:  # low stretchers: an H between the legs
            y, r = rng.uniform(0.1, 0.2), rng.uniform(0.01, 0.02)
            for sz in (-1, 1):
                s.add(P.cylinder((-hx, y, sz * hz), (hx, y, sz * hz), r, 8), base_m)
            s.add(P.cylinder((0, y, -hz), (0, y, hz), r, 8), base_m)
    elif base == "frame":  # square tubes: legs, an apron frame and low stretchers
        bar = rng.uniform(0.02, 0.035)
        for sx in (-1, 1):
            for sz in (-1, 1):
                s.add(P.box((sx * hx, under / 2, sz * hz), (bar, under, bar)), base_m)
        y_top = under - bar / 2
        for y in [y_top] + ([rng.uniform(0.08, 0.2)] if rng.random() < 0.7 else []):
            for sx in (-1, 1):
                s.add(P.box((sx * hx, y, 0), (bar, bar, 2 * hz)), base_m)
            if y == y_top:
                s.add(P.box((0, y, hz), (2 * hx, bar, bar)), base_m, mirror_z=True)
    elif base == "hairpin":  # each leg two or three thin rods bent together at the foot
        r, rods, spread = rng.uniform(0.005, 0.008), int(rng.choice([2, 2, 3])), rng.uniform(0.08, 0.15)
        for sx in (-1, 1):
            for sz in (-1, 1):
                corner = np.array([sx * hx, under, sz * hz])
                tops = [corner, corner - [0, 0, sz * spread]] + ([corner - [sx * spread, 0, 0]] if rods == 3 else [])
                middle = np.mean(tops, axis=0)
                foot = middle * [1, 0, 1] + [sx * 0.02, 0, sz * 0.02]
                for top in tops:
                    s.add(P.cylinder(foot, top, r, 8), base_m)
                s.add(P.box(middle - [0, 0.005, 0], (spread * 0.9 if rods == 3 else 0.05, 0.01, spread * 1.1)), base_m)
    elif base == "tripod":  # three thin splayed legs with a ring
        r, splay = rng.uniform(0.008, 0.015), rng.uniform(0.05, 0.12)
        rho = min(depth, length) / 2 * rng.uniform(0.4, 0.6)
        a = np.radians(np.array([0, 120, 240]) + rng.uniform(0, 120))
        heads = np.stack([rho * np.cos(a), np.full(3, under), rho * np.sin(a)], 1)
        feet = heads * [1 + splay / rho, 0, 1 + splay / rho]
        for foot, head in zip(feet, heads):
            s.add(P.cylinder(foot, head, r, 10), base_m)
        y = rng.uniform(0.2, 0.35) * h
        ring = rho + splay * (1 - y / under)
        s.add(P.tube(P.arc((0, y, 0), ring, 0, 360, "xz", 24), r * 0.7, 8), base_m)
    elif base == "pedestal":
        col = rng.uniform(0.04, 0.09)
        reach = min(depth, length) * 0.38
        feet = int(rng.choice([0, 3, 4, 4]))
        for z in ([0.0] if length < 1.3 else [-hz * 0.7, hz * 0.7]):  # long tables stand on two
            s.add(P.cylinder((0, 0.02, z), (0, h - t + 0.01, z), col, 20), base_m)
            if feet == 0:
                s.add(P.frustum((0, 0, z), (0, rng.uniform(0.03, 0.08), z), reach, col, 28), base_m)
            for a in np.linspace(0, 360, feet, endpoint=False) + 45:
                tip = P.rotation("y", a) @ np.array([reach, 0.0, 0.0]) + [0, 0, z]
                s.add(np.concatenate([P.box((0, 0.03, z), (0.06, 0.06, 0.06)), P.box(tip + [0, 0.015, 0], (0.04, 0.03, 0.04))]), base_m)
    elif base == "x":  # crossed legs at both ends, a stretcher between them
        bar = rng.uniform(0.02, 0.06)
        for sz in (-1, 1):
            for sx in (-1, 1):
                s.add(np.concatenate([P.box((sx * hx, 0.0, sz * hz), (bar, 1e-3, bar)),
                                      P.box((-sx * hx, h - t + 0.005, sz * hz), (bar, 1e-3, bar))]), base_m)
        s.add(P.box((0, (h - t) / 2, 0), (bar * 0.8, bar * 0.8, 2 * hz)), base_m)
    elif base == "sawhorse":  # two legs leaning together at each end, a cleat under the top, a stretcher
        bar, spread = rng.uniform(0.035, 0.06), depth * rng.uniform(0.35, 0.48)
        for sz in (-1, 1):
            z = sz * hz
            for sx in (-1, 1):
                s.add(np.concatenate([P.box((sx * spread, 0.0, z), (bar, 1e-3, bar)),
                                      P.box((sx * spread * 0.25, under, z), (bar, 1e-3, bar))]), base_m)
            s.add(P.box((0, under - bar / 2, z), (depth * 0.85, bar, bar * 1.2)), base_m)
        y = rng.uniform(0.25, 0.45) * h
        across = 2 * spread * (1 - 0.75 * y / under)  # between the two legs at that height
        s.add(P.box((0, y, hz), (across, bar, bar * 0.8)), base_m, mirror_z=True)
        s.add(P.box((0, y, 0), (bar * 0.8, bar, 2 * hz)), base_m)
    elif base == "trestle":
        pt = rng.uniform(0.04, 0.08)
        for sz in (-1, 1):
            z = sz * hz
            s.add(P.box((0, (h - t) / 2, z), (pt, h - t + 0.01, pt)), base_m)
            s.add(P.rounded_box((0, 0.03, z), (depth * 0.8, 0.06, pt * 1.3), 0.01), base_m)
            s.add(P.box((0, h - t - 0.03, z), (depth * 0.75, 0.06, pt)), base_m)
        s.add(P.box((0, rng.uniform(0.15, 0.4), 0), (0.04, 0.05, 2 * hz)), base_m)
    elif base == "panels":
        pt = rng.uniform(0.02, 0.06)
        for sz in (-1, 1):
            s.add(P.box((0, (h - t) / 2 + 0.005, sz * (length / 2 - pt / 2 - 0.02)), (depth * rng.uniform(0.8, 0.98), h - t + 0.01, pt)), base_m)
        if rng.random() < 0.5:
            s.add(P.box((-depth * 0.35, h * 0.55, 0), (0.015, h * 0.5, length - 0.06)), base_m)
    else:  # desk: a drawer block at one end, a panel or legs at the other
        bw = rng.uniform(0.35, 0.5)
        zc = length / 2 - bw / 2 - 0.02
        s.add(P.box((0, (h - t) / 2 + 0.005, zc), (depth * 0.9, h - t + 0.01, bw)), base_m)
        knob = s.material(mat.metal(rng))
        for y in np.linspace(h - t - 0.06, 0.1, int(rng.integers(2, 5))):
            s.add(P.box((depth * 0.45 + 0.005, y - 0.05, zc), (0.02, 0.14, bw - 0.04)), base_m)
            s.add(P.box((depth * 0.45 + 0.02, y - 0.05, zc), (0.02, 0.015, 0.08)), knob)
        s.add(P.box((0, (h - t) / 2 + 0.005, -(length / 2 - 0.04)), (depth * 0.9, h - t + 0.01, 0.03)), base_m)
    return s


def sofa(rng: np.random.Generator, seats: int | None = None) -> Shape:
    """Sofas and armchairs: 1-4 seat cushions, plain or cushioned backs, box/rolled/no arms, legs or plinth, L-shapes."""
    s = Shape()
    cover = s.material(mat.pick(rng, fabric=5, dark=1, paint=1))
    cushion_m = cover if rng.random() < 0.7 else s.material(mat.pick(rng, fabric=3, light=1))
    seats = seats or int(rng.choice([1, 2, 3, 3, 4]))
    length = seats * rng.uniform(0.5, 0.75)
    depth, seat_h = rng.uniform(0.75, 1.0), rng.uniform(0.35, 0.48)
    back_h, back_t = rng.uniform(0.65, 0.95), rng.uniform(0.12, 0.25)
    r = rng.uniform(0.02, 0.07)
    leg_h = float(rng.choice([0.0, rng.uniform(0.04, 0.16)]))
    base_top = seat_h - rng.uniform(0.08, 0.16)
    s.add(P.rounded_box((0, (leg_h + base_top) / 2, 0), (depth, base_top - leg_h, length), r / 2), cover)
    arm = rng.choice(["box", "rolled", "none", "low"], p=[0.45, 0.25, 0.15, 0.15])
    arm_w = 0.0 if arm == "none" else rng.uniform(0.1, 0.25)
    inner = length - 2 * arm_w
    cush_d = depth - back_t
    for z in np.linspace(-inner / 2, inner / 2, seats + 1)[:-1] + inner / seats / 2:
        s.add(P.rounded_box((back_t / 2, (base_top + seat_h) / 2, z), (cush_d, seat_h - base_top + 0.02, inner / seats - 0.01), r), cushion_m)
    s.add(P.rounded_box((-depth / 2 + back_t / 2, (leg_h + back_h) / 2, 0), (back_t, back_h - leg_h, length), r), cover)
    if rng.random() < 0.5:  # back cushions
        n = seats if rng.random() < 0.7 else 1
        for z in np.linspace(-inner / 2, inner / 2, n + 1)[:-1] + inner / n / 2:
            size = (0.14, back_h - seat_h - 0.06, inner / n - 0.015)
            s.add(P.rounded_box((-depth / 2 + back_t + 0.06, (seat_h + back_h) / 2 - 0.03, z), size, 0.05), cushion_m)
    if arm != "none":
        arm_h = seat_h + rng.uniform(0.12, 0.3) if arm != "low" else seat_h + 0.06
        for sz in (-1, 1):
            z = sz * (length / 2 - arm_w / 2)
            s.add(P.rounded_box((0, (leg_h + arm_h) / 2, z), (depth, arm_h - leg_h, arm_w), r), cover)
            if arm == "rolled":
                s.add(P.cylinder((-depth / 2 + 0.05, arm_h, z), (depth / 2, arm_h, z), arm_w * 0.6, 20), cover)
    if seats > 1 and rng.random() < 0.25:  # chaise longue at one end (L-shape)
        cw = inner / seats
        z = -(length / 2 - arm_w - cw / 2) * rng.choice([-1, 1])
        s.add(P.rounded_box((depth / 2 + 0.3, (leg_h + seat_h) / 2, z), (0.65, seat_h - leg_h, cw + 0.02), r), cushion_m)
    if leg_h > 0:
        legs_m = s.material(mat.pick(rng, wood=2, metal=1, dark=1))
        corner_legs(s, rng, depth / 2 - 0.06, length / 2 - 0.06, leg_h + 0.01, legs_m, thick=rng.uniform(0.03, 0.06))
    return s


BENCH_KINDS = {  # kind: probability
    "classic": 0.38,  # slab or slatted seat on legs, end panels, A-frames or tube loops; back and arms or not
    "park": 0.2,  # slatted seat and back on cast-iron ends (often with scrolled arms)
    "picnic": 0.12,  # a slatted table with a bench on each side, on slanted legs
    "metal_legs": 0.16,  # backless, on thin hairpin rods, flat-bar U frames or square tubes
    "trestle": 0.14,  # backless, splayed legs at each end and a stretcher
}


def bench(rng: np.random.Generator, kind: str | None = None) -> Shape:
    """Benches of `BENCH_KINDS`; the long axis along z, the seat's front at +x."""
    kind = kind or choose(rng, BENCH_KINDS)
    s = {"classic": _classic_bench, "park": _park_bench, "picnic": _picnic_table, "metal_legs": _metal_leg_bench,
         "trestle": _trestle_bench}[kind](rng)
    s.style = kind
    return s


def _slats(s: Shape, n: int, x0: float, x1: float, y: float, t: float, length: float, material: int,
           rot: np.ndarray | None = None, pivot: np.ndarray | None = None) -> None:
    """n boards along z filling x0..x1 with small gaps, top at y (turned by `rot` about `pivot`: a back)."""
    gap = min(0.015, (x1 - x0) / n * 0.2)
    width = (x1 - x0 - (n - 1) * gap) / n
    for x in np.linspace(x0 + width / 2, x1 - width / 2, n):
        board = P.box((x, y - t / 2, 0), (width, t, length))
        s.add(board if rot is None else P.place(board - pivot, pivot, rot), material)


def _park_bench(rng) -> Shape:
    s = Shape()
    wood = s.material(mat.pick(rng, wood=4, paint=1))
    iron = s.material(mat.pick(rng, dark=3, paint=1, metal=1))
    length, depth, h = rng.uniform(1.2, 2.0), rng.uniform(0.42, 0.52), rng.uniform(0.42, 0.48)
    t = rng.uniform(0.025, 0.04)
    back_h, tilt = rng.uniform(0.35, 0.5), rng.uniform(10, 22)
    xf, xb = depth / 2, -depth / 2
    _slats(s, int(rng.integers(4, 8)), xb + 0.02, xf, h, t, length, wood)
    rot, pivot = P.rotation("z", tilt), np.array([xb, h, 0.0])
    slat_x = xb - t / 2 - 0.005
    boards = int(rng.integers(2, 6))
    for y in np.linspace(h + 0.07, h + back_h - 0.04, boards):  # back slats lean back with the frame
        s.add(P.place(P.box((slat_x, y, 0), (t, back_h / boards * 0.7, length)) - pivot, pivot, rot), wood)
    r = rng.uniform(0.014, 0.022)
    arms = rng.random() < 0.65
    ends = [-1.0, 1.0] + ([0.0] if length > 1.6 else [])
    top = pivot + rot @ np.array([0.0, back_h, 0.0]) - [t + 0.01, 0, 0]
    rail = h - t - r + 0.004  # the seat rail's axis, its top a little into the slats
    for f in ends:
        z = f * (length / 2 - rng.uniform(0.04, 0.12) if f else 0.0)
        path = np.array([[xb - 0.07, 0.0, z], [xb - 0.01, rail, z], top * [1, 1, 0] + [0, 0, z]])
        s.add(P.tube(path, r, 8), iron)  # rear leg up into the back support
        s.add(P.tube(np.array([[xf + 0.05, 0.0, z], [xf - 0.04, rail, z]]), r, 8), iron)  # front leg
        s.add(P.tube(np.array([[xf + 0.01, rail, z], [xb - 0.02, rail, z]]), r, 8), iron)  # seat rail
        if arms and f:
            arm_y = h + rng.uniform(0.18, 0.25)
            back_x = xb - (arm_y - h) * np.tan(np.radians(tilt)) - t
            path = np.array([[back_x, arm_y, z], [xf + 0.02, arm_y + 0.02, z], [xf + 0.06, arm_y - 0.06, z], [xf - 0.02, rail, z]])
            s.add(P.tube(path, r, 8), iron)
        for x in (xb - 0.07, xf + 0.05):
            s.add(P.sphere((x, r * 0.8, z), r * 1.4, 8), iron)  # scrolled feet
    return s


def _picnic_table(rng) -> Shape:
    s = Shape()
    wood = s.material(mat.pick(rng, wood=5, paint=1))
    frame = wood if rng.random() < 0.7 else s.material(mat.pick(rng, metal=2, dark=1, paint=1))
    top_w, top_h, t = rng.uniform(0.6, 0.8), rng.uniform(0.72, 0.78), rng.uniform(0.03, 0.045)
    seat_w, seat_h = rng.uniform(0.22, 0.3), rng.uniform(0.42, 0.46)
    seat_x = top_w / 2 + rng.uniform(0.1, 0.2) + seat_w / 2
    width = 2 * (seat_x + seat_w / 2)
    length = max(rng.uniform(1.5, 2.2), width * rng.uniform(1.1, 1.3))
    _slats(s, int(rng.integers(3, 6)), -top_w / 2, top_w / 2, top_h, t, length, wood)
    for sx in (-1, 1):
        _slats(s, int(rng.integers(2, 4)), sx * seat_x - seat_w / 2, sx * seat_x + seat_w / 2, seat_h, t, length, wood)
    bar, board = rng.uniform(0.04, 0.06), rng.uniform(0.08, 0.11)
    zl = length / 2 - rng.uniform(0.15, 0.3)
    for sz in (-1, 1):
        z = sz * zl
        for sx in (-1, 1):  # slanted legs from outside the seats up to the top
            s.add(np.concatenate([P.box((sx * (seat_x + seat_w / 2 - board), 0.0, z), (board, 1e-3, bar)),
                                  P.box((sx * (top_w / 2 - board * 1.2), top_h - t + 0.004, z), (board, 1e-3, bar))]), frame)
        s.add(P.box((0, seat_h - t - board / 2 + 0.004, z), (width, board, bar)), frame)  # seat cross beam
        s.add(P.box((0, top_h - t - board / 2 + 0.004, z), (top_w * 0.95, board, bar)), frame)  # top cleat
    if rng.random() < 0.6:  # braces from the cross beams to the top's middle
        for sz in (-1, 1):
            s.add(np.concatenate([P.box((0, seat_h - t - 0.02, sz * zl), (bar, 0.04, bar)),
                                  P.box((0, top_h - t - 0.02, sz * zl * 0.4), (bar, 0.04, bar))]), frame)
    return s


def _bench_seat(s: Shape, rng, length: float, depth: float, h: float, t: float, material: int) -> None:
    """A slab or a row of slats, top at h."""
    if rng.random() < 0.4:  # boards held by a cleat under each end
        _slats(s, int(rng.integers(3, 6)), -depth / 2, depth / 2, h, t, length, material)
        s.add(P.box((0, h - t - 0.016, length / 2 - 0.06), (depth * 0.95, 0.04, 0.04)), material, mirror_z=True)
    else:
        s.add(P.rounded_box((0, h - t / 2, 0), (depth, t, length), rng.uniform(0.003, t / 2)), material)


def _metal_leg_bench(rng) -> Shape:
    s = Shape()
    seat_m = s.material(mat.pick(rng, wood=4, paint=1, dark=1))
    metal = s.material(mat.pick(rng, metal=2, dark=3, paint=1))
    length, depth, h = rng.uniform(1.0, 2.0), rng.uniform(0.3, 0.45), rng.uniform(0.4, 0.48)
    t = rng.uniform(0.025, 0.06)
    _bench_seat(s, rng, length, depth, h, t, seat_m)
    under = h - t + 0.004
    zl = length / 2 - rng.uniform(0.06, 0.2)
    style = str(rng.choice(["hairpin", "u_frame", "tubes"]))
    for sz in (-1, 1):
        z = sz * zl
        if style == "hairpin":  # a V of two rods at each corner, or one across the end
            r = rng.uniform(0.005, 0.008)
            for sx in (-1, 1):
                foot = np.array([sx * (depth / 2 - 0.05), 0.0, z])
                for dz in (0.0, -sz * 0.1):
                    s.add(P.cylinder(foot, foot + [0, under, dz], r, 8), metal)
        elif style == "u_frame":  # a flat bar bent into a U (or a closed loop) under each end
            bar, width = rng.uniform(0.012, 0.025), rng.uniform(0.04, 0.07)
            x = depth / 2 - 0.03
            s.add(P.box((x, under / 2, z), (bar, under, width)), metal)
            s.add(P.box((-x, under / 2, z), (bar, under, width)), metal)
            s.add(P.box((0, bar / 2, z), (2 * x + bar, bar, width)), metal)
        else:  # square tubes: two legs, a foot bar and a top bar per end
            bar = rng.uniform(0.02, 0.035)
            x = depth / 2 - 0.04
            for sx in (-1, 1):
                s.add(P.box((sx * x, under / 2, z), (bar, under, bar)), metal)
            for y in (bar / 2, under - bar / 2):
                s.add(P.box((0, y, z), (2 * x + bar, bar, bar)), metal)
    if style == "tubes" and rng.random() < 0.6:  # a stretcher along the bench, on the foot bars
        s.add(P.box((0, 0.02, 0), (0.025, 0.025, 2 * zl)), metal)
    return s


def _trestle_bench(rng) -> Shape:
    s = Shape()
    wood = s.material(mat.pick(rng, wood=5, paint=1, dark=1))
    legs_m = wood if rng.random() < 0.7 else s.material(mat.pick(rng, wood=2, dark=1, metal=1))
    length, depth, h = rng.uniform(1.0, 2.2), rng.uniform(0.25, 0.4), rng.uniform(0.4, 0.48)
    t = rng.uniform(0.03, 0.06)
    _bench_seat(s, rng, length, depth, h, t, wood)
    bar = rng.uniform(0.035, 0.055)
    zl = length / 2 - rng.uniform(0.08, 0.22)
    splay, lean = depth * rng.uniform(0.15, 0.45), rng.uniform(0.0, 0.08)
    for sz in (-1, 1):
        z = sz * zl
        for sx in (-1, 1):  # splayed legs, also leaning out along the bench
            s.add(np.concatenate([P.box((sx * (depth / 2 - bar + splay), 0.0, z + sz * lean), (bar, 1e-3, bar)),
                                  P.box((sx * (depth / 2 - bar * 1.5), h - t + 0.004, z), (bar, 1e-3, bar))]), legs_m)
        s.add(P.box((0, h - t - 0.026, z), (depth * 0.9, 0.06, bar)), legs_m)  # cleat under the seat
    if rng.random() < 0.7:  # a bar between the legs at each end and a stretcher along the bench
        y = rng.uniform(0.12, 0.22)
        f = 1 - y / (h - t)  # how far down the legs: their splay and lean there
        for sz in (-1, 1):
            s.add(P.box((0, y, sz * (zl + lean * f)), (depth - 2 * bar + 2 * splay * f, bar * 0.8, bar * 0.8)), legs_m)
        s.add(P.box((0, y, 0), (bar * 0.8, bar * 0.8, 2 * (zl + lean * f))), legs_m)
    return s


def _classic_bench(rng: np.random.Generator) -> Shape:
    """Slab or slatted seats; legs, end panels, A-frames or tube ends; with or without back and arms."""
    s = Shape()
    seat_m = s.material(mat.pick(rng, wood=4, paint=1, metal=1, dark=1))
    frame = seat_m if rng.random() < 0.4 else s.material(mat.pick(rng, metal=2, dark=2, wood=1, paint=1))
    length, depth, h = rng.uniform(1.0, 2.2), rng.uniform(0.3, 0.55), rng.uniform(0.4, 0.5)
    t = rng.uniform(0.03, 0.08)
    if rng.random() < 0.45:  # slats along z
        n = int(rng.integers(3, 7))
        gap = rng.uniform(0.005, 0.02)
        sw = (depth - (n - 1) * gap) / n
        for x in np.linspace(-depth / 2 + sw / 2, depth / 2 - sw / 2, n):
            s.add(P.box((x, h - t / 2, 0), (sw, t, length)), seat_m)
        s.add(P.box((0, h - t - 0.016, length / 2 - 0.08), (depth, 0.04, 0.05)), frame, mirror_z=True)
    else:
        s.add(P.rounded_box((0, h - t / 2, 0), (depth, t, length), rng.uniform(0.003, t / 2)), seat_m)
    base = rng.choice(["legs", "panels", "aframe", "loop"], p=[0.4, 0.25, 0.2, 0.15])
    zl = length / 2 - rng.uniform(0.05, 0.2)
    if base == "legs":
        corner_legs(s, rng, depth / 2 - 0.04, zl, h - t / 2, frame)
    elif base == "panels":
        s.add(P.box((0, (h - t) / 2 + 0.005, zl), (depth * rng.uniform(0.8, 1.0), h - t + 0.01, rng.uniform(0.03, 0.08))), frame, mirror_z=True)
    elif base == "aframe":
        for sz in (-1, 1):
            poly = np.array([[-depth / 2, 0], [depth / 2, 0], [depth / 4, h - t + 0.01], [-depth / 4, h - t + 0.01]])
            s.add(P.prism(poly, "z", sz * zl - 0.03, sz * zl + 0.03), frame)
    else:
        r = rng.uniform(0.01, 0.02)
        for sz in (-1, 1):
            z = sz * zl
            x = depth / 2 - 0.03
            path = np.array([[-x, h - t, z], [-x, 0.0, z], [x, 0.0, z], [x, h - t, z]])
            s.add(P.tube(path, r, 8), frame)
    if rng.random() < 0.5:  # back at -x
        back_h, tilt = rng.uniform(0.3, 0.5), rng.uniform(0, 15)
        rot, origin = P.rotation("z", tilt), np.array([-depth / 2 + 0.02, h - t, 0.0])
        if rng.random() < 0.5:
            for y in np.linspace(0.08, back_h, int(rng.integers(2, 5))):
                s.add(P.place(P.box((0, y, 0), (0.03, rng.uniform(0.04, 0.09), length)), origin, rot), seat_m)
        else:
            s.add(P.place(P.box((0, back_h / 2 + 0.05, 0), (0.03, back_h, length)), origin, rot), seat_m)
        for z in (zl, -zl):
            s.add(P.place(P.box((0, back_h / 2, z), (0.04, back_h + 0.1, 0.05)), origin, rot), frame)
        if rng.random() < 0.5:  # arms
            for sz in (-1, 1):
                s.add(P.box((0, h + 0.2, sz * (length / 2 - 0.03)), (depth, 0.04, 0.05)), frame)
                s.add(P.box((depth / 2 - 0.04, h + 0.095, sz * (length / 2 - 0.03)), (0.04, 0.21, 0.04)), frame)
    return s


def cabinet(rng: np.random.Generator) -> Shape:
    """Cabinets: wardrobes, sideboards, chests of drawers, bookcases; doors/drawers/handles at +x; plinth, legs or none."""
    s = Shape()
    body = s.material(mat.pick(rng, wood=4, light=2, paint=2, dark=1))
    front = body if rng.random() < 0.6 else s.material(mat.pick(rng, wood=2, light=1, paint=2))
    handle = s.material(mat.pick(rng, metal=3, dark=1, wood=1))
    kind = rng.choice(["doors", "drawers", "mixed", "shelves"], p=[0.35, 0.25, 0.25, 0.15])
    width = rng.uniform(0.4, 1.8)
    height = rng.uniform(0.4, 2.0) if kind != "drawers" else rng.uniform(0.5, 1.3)
    depth = rng.uniform(0.3, 0.6)
    base = rng.choice(["plinth", "legs", "none"], p=[0.4, 0.3, 0.3])
    y0 = {"plinth": rng.uniform(0.04, 0.1), "legs": rng.uniform(0.08, 0.2), "none": 0.0}[base]
    if base == "plinth":
        s.add(P.box((0, y0 / 2 + 0.005, 0), (depth - 0.04, y0 + 0.01, width - 0.04)), body)
    elif base == "legs":
        corner_legs(s, rng, depth / 2 - 0.04, width / 2 - 0.04, y0 + 0.01, s.material(mat.pick(rng, metal=1, wood=1, dark=1)))
    yc, hb = y0 + height / 2, height
    if kind == "shelves":
        pt = rng.uniform(0.015, 0.03)
        for z in (-width / 2 + pt / 2, width / 2 - pt / 2):
            s.add(P.box((0, yc, z), (depth, hb, pt)), body)
        s.add(P.box((-depth / 2 + 0.005, yc, 0), (0.01, hb, width)), body)
        for y in np.linspace(y0 + pt / 2, y0 + height - pt / 2, int(rng.integers(2, 6)) + 1):
            s.add(P.box((0, y, 0), (depth, pt, width)), body)
        return s
    s.add(P.box((0, yc, 0), (depth, hb, width)), body)
    if rng.random() < 0.4:  # top overhang
        s.add(P.box((0.01, y0 + height + 0.012, 0), (depth + 0.03, 0.025, width + 0.03)), body)
    cols = 1 if width < 0.6 else int(rng.choice([2, 2, 3])) if width < 1.4 else int(rng.choice([2, 3, 4]))
    gap, ft = 0.008, 0.015
    fx = depth / 2 + ft / 2 - 0.005

    def panel(y_lo: float, y_hi: float, z_lo: float, z_hi: float, drawer: bool) -> None:
        s.add(P.box((fx, (y_lo + y_hi) / 2, (z_lo + z_hi) / 2), (ft, y_hi - y_lo - gap, z_hi - z_lo - gap)), front)
        hx = fx + ft / 2 + 0.01
        if drawer:
            s.add(P.box((hx, y_hi - min(0.06, (y_hi - y_lo) / 3), (z_lo + z_hi) / 2), (0.025, 0.015, min(0.12, (z_hi - z_lo) / 2))), handle)
        elif rng.random() < 0.5:
            s.add(P.sphere((hx, (y_lo + y_hi) / 2, z_hi - 0.05), 0.015, 8), handle)
        else:
            s.add(P.box((hx, (y_lo + y_hi) / 2, z_hi - 0.04), (0.025, min(0.2, (y_hi - y_lo) / 3), 0.015)), handle)

    zs = np.linspace(-width / 2, width / 2, cols + 1)
    split = y0 + height * (rng.uniform(0.55, 0.8) if kind == "mixed" else 0.0)
    if kind in ("drawers", "mixed"):
        rows = int(rng.integers(2, 6)) if kind == "drawers" else int(rng.integers(1, 3))
        ys = np.linspace(y0 if kind == "drawers" else split, y0 + height, rows + 1)
        dcols = 1 if kind == "drawers" and width < 1.0 else cols
        dz = np.linspace(-width / 2, width / 2, dcols + 1)
        for i in range(rows):
            for j in range(dcols):
                panel(ys[i], ys[i + 1], dz[j], dz[j + 1], True)
    if kind in ("doors", "mixed"):
        top = y0 + height if kind == "doors" else split
        for j in range(cols):
            panel(y0, top, zs[j], zs[j + 1], False)
    return s
