"""Airplanes, cars, rifles and vessels (y up, nose / muzzle / bow at +x, span or width along z)."""

from __future__ import annotations

import numpy as np

from vitocc.data.synth import materials as mat
from vitocc.data.synth import primitives as P
from vitocc.data.synth.shape import Shape, choose

AIRPLANE_KINDS = {  # kind: probability
    "airliner": 0.38,  # swept, often cranked wings, 2-4 engines under them, long span
    "jet": 0.12,  # business jets: engines on the rear fuselage, often a T-tail
    "fighter": 0.2,  # delta or swept thin wings, single or canted twin fins, missiles
    "prop": 0.14,  # light planes: straight wings (high ones on struts), nose or wing propellers, fixed gear
    "cargo": 0.1,  # high wing, T-tail, upswept tail, four turboprops or jets, gear sponsons
    "glider": 0.06,  # very long thin wings, slender boom, T-tail
}


def _surface(s: Shape, stations: np.ndarray, material: int, vertical: bool = False, mirror: bool = True,
             rot: np.ndarray | None = None, pivot: np.ndarray | None = None) -> None:
    """A lifting surface through `stations` (K,5): leading-edge x, y, z, chord, thickness; one
    convex part per pair of stations (a cranked wing is two). Sections are lens-shaped
    (`primitives.section`); a fin's (`vertical`) thickness is along z. `rot` about `pivot`
    cants a fin; `mirror` adds the copy across z = 0."""
    sections = [P.section((x - 0.35 * c, y, z), c, t, "y" if vertical else "z") for x, y, z, c, t in stations]
    for part in P.loft(sections):
        if rot is not None:
            part = P.place(part - pivot, pivot, rot)
        s.add(part, material, mirror_z=mirror)


def _planform(root_le: float, root_y: float, semi_span: float, chord: float, taper: float, sweep_deg: float,
              dihedral_deg: float, tc_root: float, tc_tip: float, max_thickness: float, kink: float = 0.0) -> np.ndarray:
    """Stations (K,5) of a tapered, swept wing from the centre line (x_le, y, z, chord, thickness).

    Thickness is `tc` times the chord, the root's capped at `max_thickness` (real wings are
    1-2% of the plane's length thick at the root, thinner at the tip). With `kink` > 0 the
    inner `kink` of the span has a straight trailing edge (an airliner's cranked wing).
    """
    tan_sweep, tan_dihedral = np.tan(np.radians(sweep_deg)), np.tan(np.radians(dihedral_deg))
    t_root = min(chord * tc_root, max_thickness)
    tip_chord = chord * taper
    z = [0.0, semi_span] if kink <= 0 else [0.0, kink * semi_span, semi_span]
    le = [root_le - zi * tan_sweep for zi in z]
    chords = [chord, tip_chord] if kink <= 0 else [chord, chord - kink * semi_span * tan_sweep, tip_chord]
    if kink > 0:  # the outer panel tapers from the kink's chord
        chords[1] = max(chords[1], tip_chord * 1.2)
    f = np.asarray(z) / semi_span
    thick = t_root * (1 - f) + tip_chord * tc_tip * f
    return np.stack([le, root_y + np.asarray(z) * tan_dihedral, z, chords, thick], 1)


def _wing_at(stations: np.ndarray, z: float) -> np.ndarray:
    """The station (5,) interpolated at span position z (leading edge, y, z, chord, thickness)."""
    return np.array([np.interp(z, stations[:, 2], stations[:, i]) for i in range(5)])


def _propeller(s: Shape, hub: np.ndarray, radius: float, blades: int, material: int, rng) -> None:
    """A spinner and thin blades turning about x, at `hub` (the front of a nose or nacelle)."""
    s.add(P.frustum(hub - [0.03, 0, 0], hub + [radius * 0.25, 0, 0], radius * 0.18, 0.0, 12), material)
    width, thick = radius * rng.uniform(0.12, 0.2), radius * 0.05
    for a in np.linspace(0, 360, blades, endpoint=False) + rng.uniform(0, 90):
        rot = P.rotation("x", a)
        blade = np.concatenate([P.box((0, radius * 0.1, 0), (thick * 2, 1e-3, width)), P.box((0, radius, 0), (thick, 1e-3, width * 0.6))])
        s.add(P.place(blade, hub - [0.005, 0, 0], rot), material)


def airplane(rng: np.random.Generator, kind: str | None = None) -> Shape:
    """Airliners, business jets, fighters, light planes, cargo planes and gliders (`AIRPLANE_KINDS`).

    Wings, stabilisers and fins are thin lens sections (6-12% of the chord, the wing root
    capped at 1-2% of the length), lofted between stations: one convex part per panel.
    """
    kind = kind or choose(rng, AIRPLANE_KINDS)
    s = Shape(style=kind)
    body = s.material(mat.pick(rng, light=5, paint=2, dark=1))
    accent = body if rng.random() < 0.5 else s.material(mat.pick(rng, paint=3, dark=1, light=1))
    engine_m = s.material(mat.pick(rng, metal=2, light=1, dark=1))
    dark_m = s.material(mat.dark(rng))
    radius = {"fighter": rng.uniform(0.035, 0.05), "glider": rng.uniform(0.028, 0.038), "cargo": rng.uniform(0.06, 0.08),
              "prop": rng.uniform(0.045, 0.065)}.get(kind, rng.uniform(0.042, 0.062))
    upsweep = radius * (rng.uniform(0.3, 0.9) if kind != "cargo" else rng.uniform(0.9, 1.3))
    nose = rng.uniform(0.08, 0.16)
    xs = np.concatenate([[0.5], 0.5 - nose * np.array([0.05, 0.2, 0.45, 1.0]), np.linspace(0.1, -0.25, 3), [-0.38, -0.5]])
    if kind == "glider":  # a pod and a slender boom
        r = radius * np.array([0.05, 0.4, 0.75, 0.95, 1.0, 0.85, 0.45, 0.32, 0.28, 0.22])
    else:
        r = radius * np.concatenate([[0.05], [0.35, 0.65, 0.88, 1.0], [1.0, 1.0, 0.95], [0.7, 0.25 if kind != "fighter" else 0.6]])
    ys = upsweep * (np.clip(-0.2 - xs, 0.0, None) / 0.3) ** 1.5  # the tail rises
    s.add(P.tube(np.stack([xs, ys, np.zeros_like(xs)], 1), r, 14), body)

    position = choose(rng, {"airliner": {"low": 1.0}, "jet": {"low": 1.0}, "fighter": {"low": 0.3, "mid": 0.7},
                            "prop": {"low": 0.45, "high": 0.55}, "cargo": {"high": 1.0}, "glider": {"mid": 0.4, "high": 0.6}}[kind])
    wing_y = {"low": -0.6, "mid": 0.0, "high": 0.75}[position] * radius
    kink, tc_tip = 0.0, rng.uniform(0.06, 0.1)
    if kind == "fighter":
        span, chord, taper, sweep = rng.uniform(0.25, 0.4), rng.uniform(0.35, 0.5), rng.uniform(0.05, 0.3), rng.uniform(35, 60)
        wing_le, tc_root, tc_tip = -0.05 + 0.35 * chord, rng.uniform(0.04, 0.07), rng.uniform(0.04, 0.06)
    elif kind == "prop":
        span, chord, taper, sweep = rng.uniform(0.5, 0.7), rng.uniform(0.12, 0.18), rng.uniform(0.6, 1.0), rng.uniform(-2, 4)
        wing_le, tc_root = rng.uniform(0.2, 0.3), rng.uniform(0.1, 0.14)
    elif kind == "glider":
        span, chord, taper, sweep = rng.uniform(0.7, 1.0), rng.uniform(0.075, 0.1), rng.uniform(0.35, 0.6), rng.uniform(-1, 3)
        wing_le, tc_root, tc_tip = rng.uniform(0.15, 0.25), rng.uniform(0.12, 0.15), rng.uniform(0.1, 0.13)
    elif kind == "cargo":
        span, chord, taper, sweep = rng.uniform(0.48, 0.6), rng.uniform(0.13, 0.19), rng.uniform(0.3, 0.6), rng.uniform(0, 25)
        wing_le, tc_root = rng.uniform(0.1, 0.2), rng.uniform(0.1, 0.13)
    elif kind == "jet":
        span, chord, taper, sweep = rng.uniform(0.4, 0.55), rng.uniform(0.14, 0.22), rng.uniform(0.3, 0.45), rng.uniform(15, 32)
        wing_le, tc_root = rng.uniform(0.05, 0.15), rng.uniform(0.08, 0.12)
    else:  # airliner
        span, chord, taper, sweep = rng.uniform(0.46, 0.6), rng.uniform(0.14, 0.22), rng.uniform(0.2, 0.35), rng.uniform(24, 37)
        wing_le, tc_root = rng.uniform(0.12, 0.22), rng.uniform(0.08, 0.12)
        kink = rng.uniform(0.3, 0.4) if rng.random() < 0.7 else 0.0
    dihedral = rng.uniform(0, 7) if kind != "fighter" else rng.uniform(-5, 2)
    wing = _planform(wing_le, wing_y, span, chord, taper, sweep, dihedral, tc_root, tc_tip, rng.uniform(0.01, 0.02), kink)
    _surface(s, wing, body)
    tip = wing[-1]
    if rng.random() < 0.35 and kind in ("airliner", "jet", "glider"):  # winglets
        h = tip[3] * rng.uniform(0.8, 1.3)
        fin = np.array([[tip[0], tip[1], tip[2] - 0.003, tip[3] * 0.9, tip[4]], [tip[0] - h * 0.5, tip[1] + h, tip[2] - 0.003, tip[3] * 0.45, tip[4] * 0.5]])
        _surface(s, fin, accent, vertical=True)
    if kind == "prop" and position == "high":  # wing struts to the fuselage's bottom
        at = _wing_at(wing, span * rng.uniform(0.4, 0.55))
        for dx in (0.1, 0.6)[: int(rng.integers(1, 3))]:
            x = at[0] - at[3] * dx
            s.add(P.cylinder((x + 0.01, -radius * 0.7, radius * 0.6), (x, at[1] - at[4] / 2, at[2]), 0.004, 8), body, mirror_z=True)

    fin_h = {"fighter": rng.uniform(0.08, 0.14), "glider": rng.uniform(0.09, 0.14)}.get(kind, rng.uniform(0.1, 0.2))
    fin_chord = rng.uniform(0.12, 0.2) if kind != "glider" else rng.uniform(0.07, 0.11)
    tail_x = -0.5 + fin_chord * 0.7
    twin = kind == "fighter" and rng.random() < 0.5
    fin_root = np.array([tail_x + 0.35 * fin_chord, upsweep * 0.8, radius * 0.6 if twin else 0.0])
    fin_sweep = np.tan(np.radians(rng.uniform(20, 45)))
    fin_taper = rng.uniform(0.4, 0.7)
    fin_t = fin_chord * rng.uniform(0.07, 0.11)
    fin = np.array([fin_root.tolist() + [fin_chord, fin_t],
                    [fin_root[0] - fin_h * fin_sweep, fin_root[1] + fin_h, fin_root[2], fin_chord * fin_taper, fin_t * fin_taper]])
    cant = P.rotation("x", rng.uniform(10, 25)) if twin else None  # twin fins lean outwards
    _surface(s, fin, accent, vertical=True, mirror=twin, rot=cant, pivot=fin_root)
    t_tail = (kind in ("jet", "prop", "airliner") and rng.random() < 0.3) or (kind in ("cargo", "glider") and rng.random() < 0.8)
    stab_chord = fin_chord * rng.uniform(0.6, 0.9) * (fin_taper if t_tail else 1.0) * (1.3 if t_tail else 1.0)
    if t_tail:
        stab_le, stab_y = fin[1, 0] + 0.02, fin[1, 1] - 0.005
    else:
        stab_le, stab_y = fin_root[0] + 0.01, fin_root[1] - upsweep * 0.3
    stab_span = {"fighter": rng.uniform(0.1, 0.16), "glider": rng.uniform(0.08, 0.13)}.get(kind, rng.uniform(0.12, 0.2))
    stab = _planform(stab_le, stab_y, stab_span, stab_chord, rng.uniform(0.35, 0.6), rng.uniform(15, 35) if kind != "glider" else 5,
                     rng.uniform(0, 6), rng.uniform(0.06, 0.1), rng.uniform(0.06, 0.09), 0.012)
    _surface(s, stab, accent if t_tail else body)

    engines = {"airliner": int(rng.choice([2, 2, 2, 4])), "jet": 2, "fighter": 0, "prop": int(rng.choice([0, 0, 1, 2])),
               "cargo": 4 if rng.random() < 0.7 else 2, "glider": 0}[kind]
    props = kind == "prop" or (kind == "cargo" and rng.random() < 0.55)
    er, el = radius * rng.uniform(0.45, 0.7), rng.uniform(0.1, 0.18)
    if kind == "jet":  # engines on the rear fuselage
        for sz in (-1, 1):
            c = np.array([-0.3, radius * 0.5, sz * (radius + er * 1.1)])
            s.add(P.frustum(c + [el / 2, 0, 0], c - [el / 2, 0, 0], er, er * 0.75, 14), engine_m)
            inner = radius * 0.3  # the pylon starts inside the fuselage
            s.add(P.box((c[0], c[1], sz * (inner + abs(c[2])) / 2), (el * 0.5, 0.01, abs(c[2]) - inner)), body)
    elif engines:
        fractions = ([0.35] if kind != "prop" else [0.3]) if engines <= 2 else [0.3, 0.6]
        for f in fractions:
            at = _wing_at(wing, span * f)
            x, y, z = at[0], at[1], at[2]
            if props:
                c = np.array([x + 0.02, y - (0.0 if position == "high" else er * 0.3), z])
                length = at[3] * 1.1 + 0.04
                s.add(P.frustum(c + [0.04, 0, 0], c - [length - 0.04, 0, 0], er * 0.6, er * 0.5, 12), engine_m, mirror_z=True)
                for sz in (-1, 1):
                    _propeller(s, c * [1, 1, sz] + [0.04, 0, 0], rng.uniform(0.05, 0.08), int(rng.choice([2, 3, 4])), dark_m, rng)
            else:
                c = np.array([x + el * 0.25, y - er * 1.3, z])
                s.add(P.frustum(c + [el / 2, 0, 0], c - [el / 2, 0, 0], er, er * 0.8, 14), engine_m, mirror_z=True)
                s.add(P.frustum(c - [el / 2 - 0.001, 0, 0], c - [el / 2 + el * 0.25, 0, 0], er * 0.5, er * 0.15, 10), dark_m, mirror_z=True)
                s.add(P.box((x - at[3] * 0.25 + el * 0.1, y - er * 0.6, z), (at[3] * 0.6, er * 1.3, 0.006)), body, mirror_z=True)
    if kind == "prop" and engines == 0:  # nose propeller
        _propeller(s, np.array([0.5, 0, 0]), rng.uniform(0.07, 0.11), int(rng.choice([2, 2, 3])), dark_m, rng)
    if kind == "cargo":  # gear sponsons along the lower fuselage
        s.add(P.ellipsoid((0.0, -radius * 0.75, 0), (0.18, radius * 0.35, radius * 1.15)), body)
    if kind == "fighter":
        if rng.random() < 0.6:  # air intakes beside the cockpit
            s.add(P.rounded_box((0.1, -radius * 0.1, 0), (0.25, radius * 1.1, radius * 2.6), radius * 0.3), body)
        if rng.random() < 0.4:  # missiles under the wings
            for f in (0.55, 0.8)[: int(rng.integers(1, 3))]:
                at = _wing_at(wing, span * f)
                c = np.array([at[0] - at[3] * 0.4, at[1] - 0.025, at[2]])
                s.add(P.capsule(c + [0.08, 0, 0], c - [0.08, 0, 0], 0.007, 8), engine_m, mirror_z=True)
                s.add(P.box(c + [0, 0.0135, 0], (0.06, 0.021, 0.004)), engine_m, mirror_z=True)  # up to the wing's middle
    if (kind == "prop" and rng.random() < 0.7) or (kind in ("airliner", "jet", "cargo") and rng.random() < 0.3):
        _landing_gear(s, rng, radius, wing, dark_m, engine_m)
    if rng.random() < 0.6 and kind not in ("fighter", "glider"):  # cockpit windows band
        s.add(P.ellipsoid((0.5 - nose * 0.55, radius * 0.45, 0), (nose * 0.3, radius * 0.35, radius * 0.75)), s.material(mat.glass(rng)))
    elif kind in ("fighter", "glider"):  # canopy
        s.add(P.ellipsoid((0.5 - nose * 1.3, radius * 0.75, 0), (nose * 0.9, radius * 0.55, radius * 0.55)), s.material(mat.glass(rng)))
    return s


def _landing_gear(s: Shape, rng, radius: float, wing: np.ndarray, tyre: int, strut: int) -> None:
    """A nose wheel and two main wheels on thin struts under the fuselage and the wing roots."""
    drop = radius * rng.uniform(0.9, 1.4)
    wheel, width, r = rng.uniform(0.012, 0.02), rng.uniform(0.008, 0.014), rng.uniform(0.003, 0.005)
    ground = -radius - drop
    nose_x = 0.5 - rng.uniform(0.08, 0.14)
    s.add(P.cylinder((nose_x, -radius * 0.6, 0), (nose_x, ground + wheel, 0), r, 8), strut)
    s.add(P.cylinder((nose_x, ground + wheel, -width / 2), (nose_x, ground + wheel, width / 2), wheel, 14), tyre)
    root = _wing_at(wing, radius * 1.2)
    x = root[0] - root[3] * 0.6
    if root[1] < 0:  # under a low wing
        z = radius * rng.uniform(1.1, 1.8)
        top = _wing_at(wing, z)[1]
    else:  # under the fuselage
        z, top = radius * 0.7, -radius * 0.5
    s.add(P.cylinder((x, top, z), (x, ground + wheel, z), r * 1.3, 8), strut, mirror_z=True)
    s.add(P.cylinder((x, ground + wheel, z - width), (x, ground + wheel, z + width), wheel * 1.2, 14), tyre, mirror_z=True)


def car(rng: np.random.Generator) -> Shape:
    """Sedans, hatchbacks, SUVs, vans, pick-ups and sports cars: body, glass cabin, wheels, lights."""
    s = Shape()
    paint = s.material(mat.pick(rng, paint=5, light=2, dark=2, metal=2))
    glass = s.material(mat.glass(rng))
    tyre = s.material(mat.dark(rng))
    rim = s.material(mat.metal(rng))
    kind = rng.choice(["sedan", "hatch", "suv", "van", "pickup", "sports"], p=[0.3, 0.15, 0.2, 0.1, 0.12, 0.13])
    width = rng.uniform(0.36, 0.46)
    wheel_r = {"sports": 0.075, "suv": 0.1, "pickup": 0.1, "van": 0.09}.get(kind, 0.085) * rng.uniform(0.9, 1.1)
    clearance = wheel_r * rng.uniform(0.35, 0.6)
    belt = clearance + {"sports": 0.13, "suv": 0.2, "pickup": 0.2, "van": 0.22}.get(kind, 0.16) * rng.uniform(0.9, 1.1)
    roof = belt + {"sports": 0.09, "van": 0.25, "suv": 0.17}.get(kind, 0.13) * rng.uniform(0.9, 1.1)
    front_h = clearance + (belt - clearance) * rng.uniform(0.5, 0.75)
    cab_front, cab_back = {  # where the windscreen starts and the rear window ends, along x
        "sedan": (0.22, -0.3), "hatch": (0.2, -0.45), "suv": (0.25, -0.47), "van": (0.45, -0.49),
        "pickup": (0.22, -0.1), "sports": (0.15, -0.25)}[kind]
    cab_front += rng.uniform(-0.04, 0.04)
    # body: rounded cross-sections lofted from nose to tail; the hood rises to the windscreen
    nose, tail = rng.uniform(0.02, 0.05), rng.uniform(0.01, 0.04)
    stations = [(0.5, clearance + 0.03, front_h - nose, 0.86), (0.46, clearance, front_h, 0.96),
                (cab_front, clearance, belt, 1.0), (cab_back, clearance, belt, 1.0),
                (-0.45, clearance, belt - tail * 0.3, 0.97), (-0.5, clearance + 0.03, belt - tail, 0.9)]
    stations = [st for i, st in enumerate(stations) if i == 0 or st[0] < stations[i - 1][0] - 0.01]
    radius = rng.uniform(0.02, 0.05)
    s.add(P.loft([P.rounded_rect((x, (lo + hi) / 2, 0), (hi - lo) / 2, width / 2 * f, radius) for x, lo, hi, f in stations]),
          paint)
    trim = tyre if rng.random() < 0.6 else paint
    for x, f in ((0.5, 0.86), (-0.5, 0.9)):  # bumpers
        s.add(P.rounded_box((x, clearance + 0.035, 0), (0.03, rng.uniform(0.035, 0.06), width * f), 0.01), trim)
    rake = (roof - belt) * {"van": 0.4, "sports": 1.6}.get(kind, 1.1)
    rear_rake = (roof - belt) * {"hatch": 0.3, "suv": 0.15, "van": 0.05, "pickup": 0.1}.get(kind, 0.9)
    lower = np.array([[cab_front, belt - 0.01], [cab_back, belt - 0.01]])
    upper = np.array([[cab_front - rake, roof], [cab_back + rear_rake, roof]])
    cabin = np.concatenate([P.prism(np.concatenate([lower, upper]), "z", -width * 0.44, width * 0.44),
                            P.prism(upper, "z", -width * 0.38, width * 0.38)])
    s.add(cabin, glass)
    s.add(P.box(((upper[0, 0] + upper[1, 0]) / 2, roof + 0.004, 0), (upper[0, 0] - upper[1, 0] - 0.02, 0.012, width * 0.78)), paint)
    if kind == "pickup":  # open bed behind the cabin
        for z in (-width / 2 + 0.015, width / 2 - 0.015):
            s.add(P.box(((cab_back - 0.5) / 2, belt + 0.03, z), (-0.5 - cab_back + 0.02, 0.07, 0.03)), paint)
        s.add(P.box((-0.49, belt + 0.03, 0), (0.02, 0.07, width)), paint)

    base = rng.uniform(0.56, 0.68)
    front_axle = 0.5 - (1 - base) * rng.uniform(0.4, 0.55)
    tw = rng.uniform(0.05, 0.07)
    for x in (front_axle, front_axle - base):
        for sz in (-1, 1):
            z_out = sz * (width / 2 + 0.005)
            s.add(P.cylinder((x, wheel_r, z_out), (x, wheel_r, z_out - sz * tw), wheel_r, 24), tyre)
            s.add(P.cylinder((x, wheel_r, z_out + sz * 0.004), (x, wheel_r, z_out - sz * 0.01), wheel_r * 0.6, 16), rim)
    lamp = s.material(mat.light(rng))
    red = s.material(mat.Material((0.7, 0.08, 0.06)))
    for sz in (-1, 1):
        s.add(P.box((0.497, front_h - nose - 0.025, sz * width * 0.27), (0.01, 0.025, width * 0.16)), lamp)
        s.add(P.box((-0.497, belt - tail - 0.03, sz * width * 0.3), (0.01, 0.03, width * 0.14)), red)
    return s


RIFLE_KINDS = {"hunting": 0.3, "assault": 0.35, "sniper": 0.22, "shotgun": 0.13}  # kind: probability


def rifle(rng: np.random.Generator, kind: str | None = None) -> Shape:
    """Hunting, assault and sniper rifles and shotguns (`RIFLE_KINDS`): a thin barrel (5-9 mm
    radius on a 1 m gun), receiver, stock, grip, magazine, sights, scope, rail, bipod."""
    kind = kind or choose(rng, RIFLE_KINDS)
    s = Shape(style=kind)
    metal = s.material(mat.pick(rng, dark=3, metal=1))
    wooden = kind in ("hunting", "shotgun") or rng.random() < 0.2
    furniture = s.material(mat.wood(rng)) if wooden else s.material(mat.pick(rng, dark=3, paint=1))
    t = rng.uniform(0.022, 0.035)  # thickness along z
    bore_y = 0.0
    r = rng.uniform(0.005, 0.009) if kind != "shotgun" else rng.uniform(0.007, 0.01)
    muzzle = 0.5
    rec_front, rec_back = rng.uniform(0.02, 0.15), rng.uniform(-0.2, -0.1)
    rec_h = rng.uniform(0.04, 0.07)
    double = kind == "shotgun" and rng.random() < 0.5
    for z in ([-r, r] if double else [0.0]):  # side-by-side barrels, or one
        s.add(P.cylinder((rec_front - 0.02, bore_y, z), (muzzle, bore_y, z), r, 12), metal)
    if kind == "shotgun" and not double:  # pump: a tube magazine under the barrel and a fore-end on it
        s.add(P.cylinder((rec_front - 0.02, bore_y - r * 2.1, 0), (muzzle - rng.uniform(0.05, 0.15), bore_y - r * 2.1, 0), r * 0.9, 12), metal)
    if kind != "shotgun" and rng.random() < 0.4:  # muzzle brake
        s.add(P.cylinder((muzzle - 0.04, bore_y, 0), (muzzle, bore_y, 0), r * 1.8, 12), metal)
    if rng.random() < 0.5:  # front sight post
        s.add(P.box((muzzle - rng.uniform(0.02, 0.08), bore_y + r * 1.4, 0), (0.008, r * 2.2, 0.004)), metal)
    s.add(P.rounded_box(((rec_front + rec_back) / 2, bore_y - rec_h * 0.2, 0), (rec_front - rec_back, rec_h, t), 0.005), metal)
    if kind in ("assault", "sniper") and rng.random() < 0.4:  # a rail along the receiver's top
        s.add(P.box(((rec_front + rec_back) / 2, bore_y + rec_h * 0.3 + 0.004, 0), (rec_front - rec_back, 0.008, t * 0.5)), metal)
    if kind == "assault" and rng.random() < 0.2:  # carry handle on two posts
        base, y = bore_y + rec_h * 0.3 - 0.005, bore_y + rec_h * 0.3 + 0.035  # from inside the receiver's top
        for x in (rec_back + 0.03, rec_front - 0.03):
            s.add(P.box((x, (base + y) / 2, 0), (0.015, y - base, t * 0.4)), metal)
        s.add(P.rounded_box(((rec_front + rec_back) / 2, y, 0), (rec_front - rec_back - 0.03, 0.012, t * 0.45), 0.004), metal)
    fore_len = rng.uniform(0.15, 0.35)
    s.add(P.rounded_prism(np.array([[rec_front - 0.01, bore_y - rec_h * 0.7], [rec_front + fore_len, bore_y - rec_h * 0.45],
                                    [rec_front + fore_len, bore_y + r * 1.2], [rec_front - 0.01, bore_y + r * 1.2]]),
                          "z", -t * 0.55, t * 0.55, 0.006), furniture)
    butt_h = rng.uniform(0.1, 0.15)
    drop = rng.uniform(0.02, 0.06)
    if kind in ("hunting", "shotgun"):
        stock = np.array([[rec_back + 0.01, bore_y + rec_h * 0.3], [rec_back + 0.01, bore_y - rec_h * 0.7],
                          [-0.5, bore_y - drop - butt_h], [-0.5, bore_y - drop]])
        s.add(P.rounded_prism(stock, "z", -t * 0.6, t * 0.6, 0.008), furniture)
        s.add(P.rounded_prism(np.array([[rec_back + 0.03, bore_y - rec_h * 0.6], [rec_back - 0.05, bore_y - rec_h * 0.6],
                                        [rec_back - 0.07, bore_y - rec_h * 1.6], [rec_back - 0.01, bore_y - rec_h * 1.6]]),
                              "z", -t * 0.55, t * 0.55, 0.006), furniture)
    else:
        grip_x = rec_back + 0.04
        s.add(P.rounded_prism(np.array([[grip_x + 0.02, bore_y - rec_h * 0.6], [grip_x - 0.03, bore_y - rec_h * 0.6],
                                        [grip_x - 0.07, bore_y - rec_h * 0.6 - 0.11], [grip_x - 0.03, bore_y - rec_h * 0.6 - 0.11]]),
                              "z", -t * 0.5, t * 0.5, 0.006), furniture)
        stock = np.array([[rec_back + 0.01, bore_y + rec_h * 0.3], [rec_back + 0.01, bore_y - rec_h * 0.5],
                          [-0.5, bore_y - butt_h * 0.8], [-0.5, bore_y + rec_h * 0.3]])
        if rng.random() < 0.5:
            s.add(P.rounded_prism(stock, "z", -t * 0.5, t * 0.5, 0.006), furniture)
        else:  # skeleton stock: rods and a butt plate
            s.add(P.cylinder((rec_back, bore_y, 0), (-0.49, bore_y, 0), 0.008, 8), metal)
            s.add(P.cylinder((rec_back, bore_y - rec_h * 0.4, 0), (-0.49, bore_y - butt_h * 0.6, 0), 0.008, 8), metal)
            s.add(P.rounded_box((-0.49, bore_y - butt_h * 0.35, 0), (0.02, butt_h, t), 0.005), furniture)
        if kind == "assault":  # magazine, straight or curved
            mag_x, mag_w = rec_front - 0.05, rng.uniform(0.04, 0.06)
            bend = rng.uniform(0, 25)
            for i in range(3):
                rot = P.rotation("z", bend * i / 2)
                c = np.array([mag_x + 0.02 * i * bend / 25, bore_y - rec_h * 0.7 - 0.04 * (i + 0.5), 0])
                s.add(P.place(P.box((0, 0, 0), (mag_w, 0.045, t * 0.8)), c, rot), metal)
    if kind == "sniper" or (kind != "shotgun" and rng.random() < 0.35):  # scope on two mounts
        sr, sl = rng.uniform(0.012, 0.02), rng.uniform(0.18, 0.3)
        sy = bore_y + rec_h * 0.5 + sr + 0.015
        c = (rec_front + rec_back) / 2
        s.add(P.cylinder((c - sl / 2, sy, 0), (c + sl / 2, sy, 0), sr * 0.7, 14), metal)
        s.add(P.frustum((c + sl / 2 - 0.05, sy, 0), (c + sl / 2, sy, 0), sr * 0.7, sr * 1.3, 14), metal)
        s.add(P.frustum((c - sl / 2 + 0.04, sy, 0), (c - sl / 2, sy, 0), sr * 0.7, sr * 1.1, 14), metal)
        for x in (c - sl / 4, c + sl / 4):
            s.add(P.box((x, (bore_y + sy) / 2, 0), (0.015, sy - bore_y, 0.012)), metal)
    if (kind == "sniper" and rng.random() < 0.7) or (kind == "assault" and rng.random() < 0.15):  # bipod, folded down
        bx = rec_front + fore_len * 0.8
        leg = rng.uniform(0.14, 0.22)
        for sz in (-1, 1):
            foot = (bx + 0.02, bore_y - leg, sz * rng.uniform(0.04, 0.07))
            s.add(P.cylinder((bx, bore_y - rec_h * 0.45, 0), foot, 0.004, 8), metal)
            s.add(P.sphere(foot, 0.006, 8), metal)
    return s


def vessel(rng: np.random.Generator) -> Shape:
    """Ships, sailing boats, motor boats, freighters and warships: hull, deck, superstructure, masts, sails."""
    s = Shape()
    hull_m = s.material(mat.pick(rng, light=3, paint=2, dark=2, wood=1))
    deck_m = s.material(mat.pick(rng, wood=2, light=1, paint=1, metal=1))
    super_m = s.material(mat.pick(rng, light=4, paint=1, metal=1))
    kind = rng.choice(["ship", "sail", "motor", "freighter", "warship"], p=[0.25, 0.25, 0.2, 0.15, 0.15])
    beam = rng.uniform(0.12, 0.22) if kind != "sail" else rng.uniform(0.18, 0.28)
    depth = rng.uniform(0.06, 0.12)
    bow_len = rng.uniform(0.15, 0.35)
    xs = np.array([-0.5, -0.2, 0.5 - bow_len, 0.5 - bow_len * 0.45, 0.5])
    half = beam / 2 * np.array([0.85, 1.0, 1.0, 0.7, 0.02])
    deck = np.stack([xs, np.full(5, depth), half], 1)
    keel = np.stack([xs * 0.92 - 0.03, np.zeros(5), half * rng.uniform(0.2, 0.6)], 1)
    keel[-1, 0] = 0.5 - bow_len * rng.uniform(0.4, 0.9)
    s.add(np.concatenate([deck, deck * [1, 1, -1], keel, keel * [1, 1, -1]]), hull_m)
    outline = np.stack([xs[:-1] * 0.98, half[:-1] * 0.92], 1)  # deck plate, (x, z)
    s.add(P.prism(np.concatenate([outline, outline * [1, -1]]), "y", depth - 0.003, depth + 0.006), deck_m)
    top = depth + 0.006
    if kind == "sail":
        mast_x = rng.uniform(0.0, 0.15)
        mast_h = rng.uniform(0.5, 0.9)
        s.add(P.cylinder((mast_x, top - 0.01, 0), (mast_x, top + mast_h, 0), 0.006, 8), s.material(mat.metal(rng)))
        sail = s.material(mat.pick(rng, light=4, paint=1))
        boom = mast_x - rng.uniform(0.25, 0.4)
        s.add(P.prism(np.array([[mast_x - 0.01, top + 0.05], [mast_x - 0.01, top + mast_h * 0.95], [boom, top + 0.05]]),
                      "z", -0.003, 0.003), sail)
        if rng.random() < 0.7:  # jib
            s.add(P.prism(np.array([[mast_x + 0.01, top + 0.03], [mast_x + 0.01, top + mast_h * 0.85], [0.45, top + 0.02]]),
                          "z", -0.003, 0.003), sail)
        s.add(P.rounded_box((-0.05, top + 0.02, 0), (0.25, 0.05, beam * 0.5), 0.01), super_m)
        s.add(P.prism(np.array([[-0.05, 0.01], [0.05, 0.01], [0.02, -rng.uniform(0.1, 0.2)], [-0.06, -rng.uniform(0.1, 0.2)]]),
                      "z", -0.008, 0.008), hull_m)
        return s
    levels = {"ship": int(rng.integers(2, 5)), "motor": 1, "freighter": int(rng.integers(2, 4)), "warship": int(rng.integers(2, 4))}[kind]
    base_x = {"ship": rng.uniform(-0.2, 0.1), "motor": rng.uniform(-0.15, 0.05), "freighter": -0.38, "warship": rng.uniform(-0.1, 0.05)}[kind]
    length = {"ship": rng.uniform(0.3, 0.5), "motor": rng.uniform(0.25, 0.4), "freighter": 0.15, "warship": rng.uniform(0.2, 0.3)}[kind]
    lh = rng.uniform(0.035, 0.06)
    for i in range(levels):
        f = 1 - 0.18 * i
        deck_width = beam * rng.uniform(0.55, 0.85) * f
        s.add(P.box((base_x - length * (1 - f) / 4, top + lh * (i + 0.5) - 0.002, 0), (length * f, lh, deck_width)), super_m)
    if kind == "motor":
        s.add(P.prism(np.array([[base_x + length / 2, top], [base_x + length / 2 + 0.08, top], [base_x + length / 2, top + lh * 1.6]]),
                      "z", -beam * 0.35, beam * 0.35), s.material(mat.glass(rng)))
    funnel_m = s.material(mat.pick(rng, paint=2, dark=1, light=1))
    if kind in ("ship", "warship") and rng.random() < 0.8:
        for i in range(int(rng.integers(1, 3))):
            fx = base_x - length * 0.25 - 0.08 * i
            s.add(P.rounded_box((fx, top + lh * levels + 0.03, 0), (0.06, 0.09, 0.04), 0.015), funnel_m)
    if kind != "motor":
        mast_h = rng.uniform(0.1, 0.25)
        s.add(P.cylinder((base_x, top + lh * levels - 0.01, 0), (base_x, top + lh * levels + mast_h, 0), 0.005, 8), s.material(mat.metal(rng)))
    if kind == "freighter":  # rows of containers
        for x in np.arange(-0.2, 0.5 - bow_len, 0.09):
            n = int(rng.integers(1, 4))
            s.add(P.box((x, top + 0.02 * n, 0), (0.08, 0.04 * n, beam * 0.8)), s.material(mat.paint(rng)))
    if kind == "warship":  # gun turrets fore and aft
        for x in (0.5 - bow_len * 1.1, -0.35):
            s.add(P.rounded_box((x, top + 0.015, 0), (0.07, 0.03, 0.06), 0.01), super_m)
            direction = 1 if x > 0 else -1
            s.add(P.cylinder((x, top + 0.02, 0), (x + direction * 0.1, top + 0.025, 0), 0.005, 8), super_m)
    return s
