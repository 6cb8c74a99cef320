"""Chairs, tables, sofas, benches and cabinets (y up, front +x, long axis of tables/sofas/benches z).

Units are roughly metres before normalisation; every style switch is drawn from the rng.
"""

from __future__ import annotations

import numpy as np

from vitocc.data.synth import materials as mat
from vitocc.data.synth import primitives as P
from vitocc.data.synth.shape import Shape


def _legs(s: Shape, rng, x: float, z: float, top: float, material: int, splay: float = 0.0,
          style: str | None = None, thick: float | None = None) -> str:
    """Four legs under the corners (+-x, +-z) from the floor to `top`; returns the leg style."""
    style = style or str(rng.choice(["round", "square", "tapered"]))
    thick = thick if thick is not None else rng.uniform(0.02, 0.05)
    for sx in (-1, 1):
        for sz in (-1, 1):
            foot = (sx * (x + splay), 0.0, sz * (z + splay))
            head = (sx * x, top, sz * z)
            if style == "square":
                s.add(np.concatenate([P.box(foot, (thick, 1e-3, thick)), P.box(head, (thick, 1e-3, thick))]), material)
            elif style == "tapered":
                s.add(P.frustum(foot, head, thick * 0.35, thick * 0.6, 12), material)
            else:
                s.add(P.cylinder(foot, head, thick / 2, 12), material)
    return style


def chair(rng: np.random.Generator) -> Shape:
    """Chairs and stools: 4 legs / pedestal / sled / side panels / cantilever; solid, slatted, railed or no back; arms or not."""
    if rng.random() < 0.12:  # upholstered armchairs are chairs too
        return sofa(rng, seats=1)
    s = Shape()
    frame = s.material(mat.pick(rng, wood=3, metal=2, paint=2, dark=1))
    seat_m = frame if rng.random() < 0.4 else s.material(mat.pick(rng, fabric=3, wood=1, paint=1, dark=1))
    w, d = rng.uniform(0.38, 0.6), rng.uniform(0.38, 0.6)
    h, t = rng.uniform(0.38, 0.52), rng.uniform(0.025, 0.1)
    round_seat = rng.random() < 0.12
    if round_seat:
        s.add(P.cylinder((0, h - t, 0), (0, h, 0), max(w, d) / 2, 28), seat_m)
    elif rng.random() < 0.5:
        s.add(P.rounded_box((0, h - t / 2, 0), (d, t, w), rng.uniform(0.005, t / 2)), seat_m)
    else:
        s.add(P.box((0, h - t / 2, 0), (d, t, w)), seat_m)

    base = rng.choice(["legs", "pedestal", "sled", "panels", "cantilever"], p=[0.55, 0.2, 0.1, 0.08, 0.07])
    inset = rng.uniform(0.02, 0.06)
    if base == "legs":
        style = _legs(s, rng, d / 2 - inset, w / 2 - inset, h - t / 2, frame, splay=rng.choice([0.0, rng.uniform(0, 0.05)]))
        if rng.random() < 0.4:  # stretchers between the legs
            y = rng.uniform(0.1, 0.25)
            r = rng.uniform(0.008, 0.015)
            for sz in (-1, 1):
                s.add(P.cylinder((-(d / 2 - inset), y, sz * (w / 2 - inset)), (d / 2 - inset, y, sz * (w / 2 - inset)), r, 8), frame)
            if style != "tapered":
                s.add(P.cylinder((0, y, -(w / 2 - inset)), (0, y, w / 2 - inset), r, 8), frame)
    elif base == "pedestal":
        col = rng.uniform(0.025, 0.045)
        foot_y = rng.uniform(0.05, 0.1)
        s.add(P.cylinder((0, foot_y, 0), (0, h - t + 0.01, 0), col, 16), frame)
        if rng.random() < 0.25:
            s.add(P.cylinder((0, 0, 0), (0, foot_y + 0.01, 0), rng.uniform(0.2, 0.28), 28), frame)
        else:
            n, reach = int(rng.choice([4, 5, 5, 5])), rng.uniform(0.25, 0.33)
            wheels = rng.random() < 0.7
            for a in np.linspace(0, 360, n, endpoint=False) + rng.uniform(0, 72):
                tip = P.rotation("y", a) @ np.array([reach, 0.0, 0.0])
                lift = 0.05 if wheels else 0.0
                spoke = [P.box((0, foot_y + lift, 0), (0.05, 0.04, 0.05)), P.box(tip + [0, lift + 0.01, 0], (0.04, 0.03, 0.04))]
                s.add(np.concatenate(spoke), frame)
                if wheels:
                    s.add(P.sphere(tip + [0, 0.028, 0], 0.028, 10), frame)
    elif base == "sled":
        r = rng.uniform(0.008, 0.014)
        for sz in (-1, 1):
            z = sz * (w / 2 - inset)
            path = np.array([[-(d / 2 - inset), h - t, z], [-(d / 2 - inset) - 0.03, 0.0, z],
                             [d / 2 - inset + 0.03, 0.0, z], [d / 2 - inset, h - t, z]])
            s.add(P.tube(path, r, 8), frame)
    elif base == "panels":
        pt = rng.uniform(0.02, 0.05)
        for sz in (-1, 1):
            s.add(P.box((0, (h - t) / 2 + 0.005, sz * (w / 2 - pt / 2)), (d, h - t + 0.01, pt)), frame)
    else:  # cantilever: a bent tube under each side
        r = rng.uniform(0.009, 0.014)
        for sz in (-1, 1):
            z = sz * (w / 2 - inset)
            path = np.array([[d / 2 - inset, h - t, z], [-(d / 2) + 0.05, h - t, z], [-(d / 2) + 0.02, 0.02, z],
                             [d / 2, 0.0, z]])
            s.add(P.tube(path, r, 8), frame)

    if rng.random() < 0.94:  # back rest at -x, leaning back (else a stool)
        back_h, tilt = rng.uniform(0.3, 0.65), rng.uniform(0, 16)
        bt = rng.uniform(0.02, 0.07)
        rot = P.rotation("z", tilt)
        origin = np.array([-d / 2 + bt / 2, h - t / 2, 0.0])
        style = rng.choice(["solid", "slats", "rails", "round"], p=[0.45, 0.2, 0.2, 0.15])
        back_m = seat_m if rng.random() < 0.7 else frame
        if style == "solid":
            s.add(P.place(P.rounded_box((0, back_h / 2, 0), (bt, back_h, w), rng.uniform(0.003, bt / 2)), origin, rot), back_m)
        elif style == "round":
            s.add(P.place(P.ellipsoid((0, back_h * 0.6, 0), (bt / 2, back_h * 0.42, w / 2), sections=20), origin, rot), back_m)
            s.add(P.place(P.box((0, back_h * 0.12, 0), (bt, back_h * 0.3, w * 0.45)), origin, rot), back_m)
        else:
            post = rng.uniform(0.02, 0.04)
            for sz in (-1, 1):
                s.add(P.place(P.box((0, back_h / 2, sz * (w / 2 - post / 2)), (bt, back_h, post)), origin, rot), frame)
            s.add(P.place(P.box((0, back_h - 0.03, 0), (bt, rng.uniform(0.04, 0.1), w)), origin, rot), back_m)
            if style == "slats":
                n = int(rng.integers(2, 7))
                for z in np.linspace(-w / 2 + post, w / 2 - post, n + 2)[1:-1]:
                    s.add(P.place(P.box((0, back_h / 2, z), (bt * 0.6, back_h, rng.uniform(0.015, 0.04))), origin, rot), frame)
            else:
                for y in np.linspace(0.1, back_h - 0.08, int(rng.integers(1, 4)) + 1)[:-1]:
                    s.add(P.place(P.box((0, y, 0), (bt * 0.7, rng.uniform(0.02, 0.06), w)), origin, rot), back_m)

    if rng.random() < 0.3 and not round_seat:  # arm rests
        arm_h = rng.uniform(0.18, 0.28)
        aw = rng.uniform(0.03, 0.08)
        for sz in (-1, 1):
            z = sz * (w / 2 + aw / 2 - 0.01)
            s.add(P.rounded_box((-0.02, h + arm_h, z), (d * rng.uniform(0.7, 1.0), 0.03, aw), 0.012), seat_m)
            if rng.random() < 0.5:
                s.add(P.box((0.0, h + arm_h / 2 - t / 2, z), (d * 0.8, arm_h + t, aw * 0.6)), frame)
            else:
                s.add(P.cylinder((d / 2 - 0.06, h - t, z), (d / 2 - 0.06, h + arm_h, z), 0.013, 10), frame)
    return s


def table(rng: np.random.Generator) -> Shape:
    """Tables and desks: rectangular, oval or round tops; 4 legs, pedestal, trestle, crossed legs, panel or drawer-block bases."""
    s = Shape()
    top_m = s.material(mat.pick(rng, wood=4, paint=1, light=1, dark=1))
    base_m = top_m if rng.random() < 0.5 else s.material(mat.pick(rng, wood=2, metal=2, dark=1, paint=1))
    h = float(rng.choice([rng.uniform(0.68, 0.8), rng.uniform(0.35, 0.5), rng.uniform(0.9, 1.05)], p=[0.7, 0.2, 0.1]))
    t = rng.uniform(0.02, 0.07)
    shape = rng.choice(["rect", "round", "oval"], p=[0.65, 0.25, 0.1])
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

    if shape != "rect":
        base = rng.choice(["pedestal", "legs"], p=[0.6, 0.4])
    else:
        base = rng.choice(["legs", "trestle", "panels", "desk", "pedestal", "x"], p=[0.46, 0.13, 0.14, 0.11, 0.08, 0.08])
    hx, hz = depth / 2 * rng.uniform(0.72, 0.92), length / 2 * rng.uniform(0.72, 0.94)
    if shape != "rect":
        hx = hz = min(depth, length) / 2 * 0.6
    if base == "legs":
        _legs(s, rng, hx, hz, h - t / 2, base_m)
        if rng.random() < 0.5 and shape == "rect":  # apron
            ah = rng.uniform(0.05, 0.12)
            for x in (-hx, hx):
                s.add(P.box((x, h - t - ah / 2 + 0.005, 0), (0.02, ah, 2 * hz)), base_m)
            s.add(P.box((0, h - t - ah / 2 + 0.005, hz), (2 * hx, ah, 0.02)), base_m, mirror_z=True)
        if rng.random() < 0.2:  # lower shelf
            s.add(P.box((0, rng.uniform(0.1, 0.25), 0), (2 * hx + 0.03, 0.02, 2 * hz + 0.03)), top_m)
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
        bar = rng.uniform(0.03, 0.06)
        for sz in (-1, 1):
            for sx in (-1, 1):
                s.add(np.concatenate([P.box((sx * hx, 0.0, sz * hz), (bar, 1e-3, bar)),
                                      P.box((-sx * hx, h - t + 0.005, sz * hz), (bar, 1e-3, bar))]), base_m)
        s.add(P.box((0, (h - t) / 2, 0), (bar * 0.8, bar * 0.8, 2 * hz)), base_m)
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
        _legs(s, rng, depth / 2 - 0.06, length / 2 - 0.06, leg_h + 0.01, legs_m, thick=rng.uniform(0.03, 0.06))
    return s


def bench(rng: np.random.Generator) -> Shape:
    """Benches: slab or slatted seats; legs, end panels, A-frames or tube ends; with or without back and arms."""
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
        s.add(P.box((0, h - t - 0.02, length / 2 - 0.08), (depth, 0.04, 0.05)), frame, mirror_z=True)
    else:
        s.add(P.rounded_box((0, h - t / 2, 0), (depth, t, length), rng.uniform(0.003, t / 2)), seat_m)
    base = rng.choice(["legs", "panels", "aframe", "loop"], p=[0.4, 0.25, 0.2, 0.15])
    zl = length / 2 - rng.uniform(0.05, 0.2)
    if base == "legs":
        _legs(s, rng, depth / 2 - 0.04, zl, h - t / 2, frame)
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
                s.add(P.box((depth / 2 - 0.04, h + 0.1, sz * (length / 2 - 0.03)), (0.04, 0.2, 0.04)), frame)
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
        _legs(s, rng, depth / 2 - 0.04, width / 2 - 0.04, y0 + 0.01, s.material(mat.pick(rng, metal=1, wood=1, dark=1)))
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
