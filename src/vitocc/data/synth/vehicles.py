"""Airplanes, cars, rifles and vessels (y up, nose / muzzle / bow at +x, span or width along z)."""

from __future__ import annotations

import numpy as np

from vitocc.data.synth import materials as mat
from vitocc.data.synth import primitives as P
from vitocc.data.synth.shape import Shape


def _wing(s: Shape, root: np.ndarray, span: float, chord: float, taper: float, sweep_deg: float,
          dihedral_deg: float, thickness: float, material: int, vertical: bool = False, mirror: bool = True) -> np.ndarray:
    """A tapered, swept wing (or a fin when `vertical`) from `root`; returns the tip's centre.

    `mirror` adds the copy mirrored across z = 0 (the other wing, a twin fin, a winglet).
    """
    sweep = span * np.tan(np.radians(sweep_deg))
    if vertical:
        tip = root + np.array([-sweep, span, 0.0])
        pts = np.concatenate([P.section(root, chord, thickness, "y"), P.section(tip, chord * taper, thickness * taper, "y")])
    else:
        tip = root + np.array([-sweep, span * np.tan(np.radians(dihedral_deg)), span])
        pts = np.concatenate([P.section(root, chord, thickness), P.section(tip, chord * taper, thickness * taper)])
    s.add(pts, material, mirror_z=mirror)
    return tip


def airplane(rng: np.random.Generator) -> Shape:
    """Airliners, business jets, fighters and propeller planes: swept/straight/delta wings, 0-4 engines, T-tails."""
    s = Shape()
    body = s.material(mat.pick(rng, light=5, paint=2, dark=1))
    accent = body if rng.random() < 0.5 else s.material(mat.pick(rng, paint=3, dark=1, light=1))
    engine_m = s.material(mat.pick(rng, metal=2, light=1, dark=1))
    kind = rng.choice(["airliner", "jet", "fighter", "prop"], p=[0.45, 0.15, 0.25, 0.15])
    radius = rng.uniform(0.04, 0.065) if kind != "fighter" else rng.uniform(0.035, 0.05)
    upsweep = radius * rng.uniform(0.3, 0.9)
    nose = rng.uniform(0.08, 0.16)
    xs = np.concatenate([[0.5], 0.5 - nose * np.array([0.05, 0.2, 0.45, 1.0]), np.linspace(0.1, -0.25, 3), [-0.38, -0.5]])
    r = radius * np.concatenate([[0.05], [0.35, 0.65, 0.88, 1.0], [1.0, 1.0, 0.95], [0.7, 0.25 if kind != "fighter" else 0.6]])
    ys = upsweep * (np.clip(-0.2 - xs, 0.0, None) / 0.3) ** 1.5  # the tail rises
    s.add(P.tube(np.stack([xs, ys, np.zeros_like(xs)], 1), r, 14), body)

    position = rng.choice(["low", "mid", "high"], p=[0.6, 0.2, 0.2] if kind != "prop" else [0.3, 0.2, 0.5])
    wing_y = {"low": -0.55, "mid": 0.0, "high": 0.6}[position] * radius
    if kind == "fighter":
        span, chord, taper, sweep = rng.uniform(0.25, 0.4), rng.uniform(0.35, 0.5), rng.uniform(0.05, 0.3), rng.uniform(35, 60)
        wing_x = -0.05
    elif kind == "prop":
        span, chord, taper, sweep = rng.uniform(0.45, 0.65), rng.uniform(0.12, 0.18), rng.uniform(0.6, 1.0), rng.uniform(-3, 6)
        wing_x = rng.uniform(0.15, 0.25)
    else:
        span, chord, taper, sweep = rng.uniform(0.4, 0.62), rng.uniform(0.15, 0.28), rng.uniform(0.2, 0.5), rng.uniform(20, 38)
        wing_x = rng.uniform(0.05, 0.2)
    dihedral = rng.uniform(0, 7) if kind != "fighter" else rng.uniform(-5, 2)
    root = np.array([wing_x, wing_y, 0.0])
    tip = _wing(s, root, span, chord, taper, sweep, dihedral, chord * rng.uniform(0.08, 0.14), body)
    if rng.random() < 0.3 and kind == "airliner":  # winglets
        _wing(s, tip - [0.0, 0.0, 0.01], chord * taper * 0.8, chord * taper * 0.8, 0.5, 30, 0, chord * taper * 0.08, accent,
              vertical=True)

    fin_h = rng.uniform(0.1, 0.2) if kind != "fighter" else rng.uniform(0.08, 0.14)
    fin_chord = rng.uniform(0.12, 0.2)
    tail_x = -0.5 + fin_chord * 0.7
    twin = kind == "fighter" and rng.random() < 0.5
    fin_root = np.array([tail_x, upsweep * 0.8, radius * 0.6 if twin else 0.0])
    fin_tip = _wing(s, fin_root, fin_h, fin_chord, rng.uniform(0.4, 0.7), rng.uniform(20, 45), 0, 0.012, accent,
                    vertical=True, mirror=twin)
    fin_root[2] = fin_tip[2] = 0.0  # the stabiliser sits on the centre line, also behind twin fins
    t_tail = kind in ("jet", "prop", "airliner") and rng.random() < 0.3
    stab_root = fin_tip + [fin_chord * 0.2, -0.005, 0] if t_tail else fin_root - [0.0, upsweep * 0.3, 0.0]
    _wing(s, stab_root, rng.uniform(0.1, 0.2), fin_chord * rng.uniform(0.6, 0.9), 0.5, rng.uniform(15, 35), rng.uniform(0, 6), 0.01,
          accent if t_tail else body)

    engines = {"airliner": int(rng.choice([2, 2, 2, 4])), "jet": 2, "fighter": 0, "prop": int(rng.choice([0, 1, 2]))}[kind]
    er, el = radius * rng.uniform(0.45, 0.75), rng.uniform(0.1, 0.18)
    if kind == "jet":  # engines on the rear fuselage
        for sz in (-1, 1):
            c = np.array([-0.3, radius * 0.5, sz * (radius + er * 1.1)])
            s.add(P.frustum(c + [el / 2, 0, 0], c - [el / 2, 0, 0], er, er * 0.75, 14), engine_m)
            s.add(P.box(c, (el * 0.5, 0.01, 2 * er * 1.1)), body)
    elif engines:
        fractions = [0.35] if engines <= 2 else [0.3, 0.6]
        for f in fractions:
            for sz in (-1, 1):
                z = sz * span * f
                x = wing_x - span * f * np.tan(np.radians(sweep)) + chord * 0.3
                y = wing_y + span * f * np.tan(np.radians(dihedral))
                if kind == "prop":
                    c = np.array([x + 0.03, y, z])
                    s.add(P.frustum(c + [0.06, 0, 0], c - [0.06, 0, 0], er * 0.6, er * 0.9, 12), engine_m)
                    s.add(P.cylinder(c + [0.062, 0, 0], c + [0.07, 0, 0], rng.uniform(0.05, 0.08), 16), engine_m)
                else:
                    c = np.array([x + el * 0.3, y - er * 1.3, z])
                    s.add(P.frustum(c + [el / 2, 0, 0], c - [el / 2, 0, 0], er, er * 0.8, 14), engine_m)
                    s.add(P.box(c + [0, er * 0.9, 0], (el * 0.6, er * 1.2, 0.008)), body)
    if kind == "prop" and engines == 0:  # nose propeller
        s.add(P.cylinder((0.5, 0, 0), (0.51, 0, 0), rng.uniform(0.07, 0.11), 16), engine_m)
    if rng.random() < 0.6 and kind != "fighter":  # cockpit windows band
        s.add(P.ellipsoid((0.5 - nose * 0.55, radius * 0.45, 0), (nose * 0.3, radius * 0.35, radius * 0.75)), s.material(mat.glass(rng)))
    elif kind == "fighter":
        s.add(P.ellipsoid((0.5 - nose * 1.3, radius * 0.75, 0), (nose * 0.9, radius * 0.55, radius * 0.55)), s.material(mat.glass(rng)))
    return s


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


def rifle(rng: np.random.Generator) -> Shape:
    """Hunting rifles, assault rifles and sniper rifles: barrel, receiver, stock, grip, magazine, scope, bipod."""
    s = Shape()
    kind = rng.choice(["hunting", "assault", "sniper"], p=[0.35, 0.4, 0.25])
    metal = s.material(mat.pick(rng, dark=3, metal=1))
    furniture = s.material(mat.wood(rng)) if kind == "hunting" or rng.random() < 0.2 else s.material(mat.pick(rng, dark=3, paint=1))
    t = rng.uniform(0.022, 0.035)  # thickness along z
    bore_y = 0.0
    r = rng.uniform(0.006, 0.011)
    muzzle = 0.5
    rec_front, rec_back = rng.uniform(0.02, 0.15), rng.uniform(-0.2, -0.1)
    rec_h = rng.uniform(0.04, 0.07)
    s.add(P.cylinder((rec_front - 0.02, bore_y, 0), (muzzle, bore_y, 0), r, 12), metal)
    if rng.random() < 0.4:
        s.add(P.cylinder((muzzle - 0.04, bore_y, 0), (muzzle, bore_y, 0), r * 1.6, 12), metal)
    s.add(P.rounded_box(((rec_front + rec_back) / 2, bore_y - rec_h * 0.2, 0), (rec_front - rec_back, rec_h, t), 0.005), metal)
    fore_len = rng.uniform(0.15, 0.35)
    s.add(P.rounded_prism(np.array([[rec_front - 0.01, bore_y - rec_h * 0.7], [rec_front + fore_len, bore_y - rec_h * 0.45],
                                    [rec_front + fore_len, bore_y + r * 1.2], [rec_front - 0.01, bore_y + r * 1.2]]),
                          "z", -t * 0.55, t * 0.55, 0.006), furniture)
    butt_h = rng.uniform(0.1, 0.15)
    drop = rng.uniform(0.02, 0.06)
    if kind == "hunting":
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
    if kind == "sniper" or rng.random() < 0.3:  # scope on two mounts
        sr, sl = rng.uniform(0.012, 0.02), rng.uniform(0.18, 0.3)
        sy = bore_y + rec_h * 0.5 + sr + 0.015
        c = (rec_front + rec_back) / 2
        s.add(P.cylinder((c - sl / 2, sy, 0), (c + sl / 2, sy, 0), sr * 0.7, 14), metal)
        s.add(P.frustum((c + sl / 2 - 0.05, sy, 0), (c + sl / 2, sy, 0), sr * 0.7, sr * 1.3, 14), metal)
        s.add(P.frustum((c - sl / 2 + 0.04, sy, 0), (c - sl / 2, sy, 0), sr * 0.7, sr * 1.1, 14), metal)
        for x in (c - sl / 4, c + sl / 4):
            s.add(P.box((x, (bore_y + sy) / 2, 0), (0.015, sy - bore_y, 0.012)), metal)
    if kind == "sniper" and rng.random() < 0.6:  # bipod, folded down
        bx = rec_front + fore_len * 0.8
        for sz in (-1, 1):
            s.add(P.cylinder((bx, bore_y - rec_h * 0.45, 0), (bx + 0.02, bore_y - 0.2, sz * 0.05), 0.005, 8), metal)
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
