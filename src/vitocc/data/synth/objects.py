"""Displays, lamps, loudspeakers and telephones (y up, screens / drivers facing +x)."""

from __future__ import annotations

import numpy as np

from vitocc.data.synth import materials as mat
from vitocc.data.synth import primitives as P
from vitocc.data.synth.shape import Shape


def display(rng: np.random.Generator) -> Shape:
    """Monitors, TVs, all-in-ones and CRTs: bezel, screen, stand (neck + base, feet, or none)."""
    s = Shape()
    case = s.material(mat.pick(rng, dark=4, light=2, metal=1, paint=1))
    screen = s.material(mat.glass(rng) if rng.random() < 0.5 else mat.dark(rng))
    kind = rng.choice(["monitor", "tv", "allinone", "crt"], p=[0.45, 0.25, 0.15, 0.15])
    width = rng.uniform(0.5, 1.0)
    height = width * float(rng.choice([9 / 16, 10 / 16, 3 / 4])) * rng.uniform(0.95, 1.05)
    depth = rng.uniform(0.015, 0.05)
    bezel = rng.uniform(0.008, 0.04)
    chin = bezel + (rng.uniform(0.05, 0.12) if kind == "allinone" else 0.0)
    foot = {"monitor": rng.uniform(0.12, 0.25), "tv": rng.uniform(0.03, 0.1), "allinone": rng.uniform(0.1, 0.2), "crt": 0.02}[kind]
    y0 = foot + height / 2
    tilt = P.rotation("z", -rng.uniform(0, 12)) if kind in ("monitor", "allinone") else np.eye(3)
    pivot = np.array([0.0, y0, 0.0])
    if kind == "crt":
        height, width = width * 0.75, width
        body_d = width * rng.uniform(0.7, 1.0)
        s.add(np.concatenate([P.box((-0.01, y0, 0), (0.02, height + 2 * bezel, width + 2 * bezel)),
                              P.box((-body_d, y0 - height * 0.05, 0), (0.02, height * 0.6, width * 0.6))]), case)
        s.add(P.rounded_box((0.005, y0, 0), (0.02, height, width), 0.02), screen)
        s.add(P.box((-body_d * 0.4, 0.01, 0), (body_d * 0.6, 0.02 + foot, width * 0.5)), case)
        return s
    frame_size = (depth, height + bezel + chin, width + 2 * bezel)  # the bezel, with a chin below the screen
    s.add(P.place(P.rounded_box((0, (chin - bezel) / -2, 0), frame_size, min(0.01, depth / 3)), pivot, tilt), case)
    s.add(P.place(P.box((depth / 2, 0, 0), (0.006, height, width)), pivot, tilt), screen)
    if rng.random() < 0.5:  # bulge at the back
        s.add(P.place(P.box((-depth / 2 - 0.02, -height * 0.05, 0), (0.05, height * 0.6, width * 0.6)), pivot, tilt), case)
    stand = s.material(mat.pick(rng, dark=2, metal=2)) if rng.random() < 0.5 else case
    if kind in ("monitor", "allinone"):
        neck_w = rng.uniform(0.04, 0.12)
        s.add(P.box((-depth / 2 - 0.03, (foot + y0) / 2, 0), (0.03, y0 - foot + height * 0.3, neck_w)), stand)
        base_shape = rng.choice(["rect", "round", "v"])
        if base_shape == "round":
            s.add(P.cylinder((-0.03, 0, 0), (-0.03, 0.02, 0), rng.uniform(0.1, 0.18), 28), stand)
        elif base_shape == "rect":
            s.add(P.rounded_box((-0.03, 0.01, 0), (rng.uniform(0.15, 0.25), 0.02, rng.uniform(0.2, 0.4)), 0.008), stand)
        else:
            for sz in (-1, 1):
                s.add(np.concatenate([P.box((-depth / 2 - 0.03, 0.01, 0), (0.04, 0.02, 0.04)),
                                      P.box((0.12, 0.01, sz * 0.12), (0.04, 0.02, 0.04))]), stand)
        s.add(P.box((-depth / 2 - 0.03, foot * 0.6, 0), (0.04, foot * 1.2, neck_w)), stand)
    elif kind == "tv":
        if rng.random() < 0.5:  # two feet
            for sz in (-1, 1):
                s.add(P.box((0, foot / 2, sz * width * 0.4), (0.18, foot + 0.01, 0.03)), stand)
        else:
            s.add(P.box((-0.02, foot / 2 + 0.005, 0), (0.05, foot + 0.05, 0.1)), stand)
            s.add(P.rounded_box((0, 0.01, 0), (0.22, 0.02, width * 0.45), 0.008), stand)
    return s


def lamp(rng: np.random.Generator) -> Shape:
    """Table, floor, desk (jointed arm), pendant, tripod, globe lamps and chandeliers with cone, drum, dome or bell shades."""
    s = Shape()
    base_m = s.material(mat.pick(rng, metal=3, dark=2, wood=1, paint=1, light=1))
    shade_m = s.material(mat.pick(rng, light=3, fabric=2, paint=2, metal=1))
    kind = rng.choice(["table", "floor", "desk", "pendant", "tripod", "globe", "chandelier"],
                      p=[0.28, 0.2, 0.18, 0.1, 0.09, 0.08, 0.07])
    pole_r = rng.uniform(0.008, 0.02)

    def shade(center_top: np.ndarray, size: float) -> None:
        style = rng.choice(["cone", "drum", "dome", "bell"])
        top, bottom = np.asarray(center_top, dtype=np.float64), np.asarray(center_top) - [0, size * rng.uniform(0.6, 1.0), 0]
        if style == "cone":
            s.add(P.frustum(bottom, top, size * 0.6, size * rng.uniform(0.2, 0.4), 28), shade_m)
        elif style == "drum":
            s.add(P.cylinder(bottom, top, size * 0.5, 28), shade_m)
        elif style == "dome":
            dome = P.ellipsoid(bottom, (size * 0.55, (top - bottom)[1], size * 0.55), sections=20)
            s.add(dome[dome[:, 1] >= bottom[1] - 1e-9], shade_m)
        else:
            s.add(P.frustum(bottom, bottom + (top - bottom) * 0.5, size * 0.55, size * 0.3, 24), shade_m)
            s.add(P.frustum(bottom + (top - bottom) * 0.5 - [0, 0.005, 0], top, size * 0.3, size * 0.12, 24), shade_m)

    if kind == "chandelier":  # a stem from the ceiling, arms curving out and up to small shades
        h, reach = rng.uniform(0.5, 0.9), rng.uniform(0.2, 0.4)
        s.add(P.cylinder((0, h, 0), (0, h + 0.02, 0), 0.05, 16), base_m)
        s.add(P.cylinder((0, 0.1, 0), (0, h, 0), pole_r, 10), base_m)
        s.add(P.ellipsoid((0, 0.12, 0), (0.05, 0.06, 0.05)), base_m)
        arms = int(rng.integers(3, 9))
        for a in np.linspace(0, 360, arms, endpoint=False):
            rot = P.rotation("y", a)
            path = np.array([[0.0, 0.12, 0.0], [reach * 0.5, 0.06, 0.0], [reach * 0.9, 0.1, 0.0], [reach, 0.18, 0.0]]) @ rot.T
            s.add(P.tube(path, pole_r * 0.7, 8), base_m)
            tip = path[-1]
            s.add(P.frustum(tip, tip + [0, 0.08, 0], 0.025, 0.045, 12), shade_m)
        return s
    if kind == "pendant":
        h = rng.uniform(0.6, 1.2)
        s.add(P.cylinder((0, h, 0), (0, h + 0.02, 0), 0.06, 16), base_m)
        s.add(P.cylinder((0, 0.2, 0), (0, h, 0), 0.004, 6), base_m)
        shade((0, 0.21, 0), rng.uniform(0.2, 0.45))
        return s
    if kind == "tripod":
        h = rng.uniform(0.9, 1.5)
        spread = rng.uniform(0.15, 0.3)
        for a in (90, 210, 330):
            foot = P.rotation("y", a) @ np.array([spread, 0.0, 0.0])
            s.add(P.cylinder(foot, (0, h * 0.7, 0), pole_r, 8), base_m)
        s.add(P.cylinder((0, h * 0.68, 0), (0, h * 0.8, 0), pole_r, 8), base_m)
        shade((0, h, 0), rng.uniform(0.3, 0.5))
        return s

    base_r = rng.uniform(0.08, 0.18)
    base_h = rng.uniform(0.02, 0.12)
    if rng.random() < 0.5:
        s.add(P.frustum((0, 0, 0), (0, base_h, 0), base_r, base_r * rng.uniform(0.4, 1.0), 28), base_m)
    elif rng.random() < 0.5:
        s.add(P.rounded_box((0, base_h / 2, 0), (base_r * 1.6, base_h, base_r * 1.6), 0.01), base_m)
    else:
        body = P.ellipsoid((0, base_h + 0.1, 0), (base_r, 0.14 + base_h, base_r), sections=20)
        s.add(body[body[:, 1] >= 0], base_m)
        base_h += 0.2
    if kind == "globe":
        s.add(P.cylinder((0, base_h - 0.01, 0), (0, base_h + 0.05, 0), pole_r * 2, 12), base_m)
        s.add(P.sphere((0, base_h + 0.05 + 0.15, 0), rng.uniform(0.12, 0.2), 24), shade_m)
        return s
    if kind == "desk":  # two arm segments and a head pointing down-forward
        a1, a2 = rng.uniform(0.25, 0.45), rng.uniform(0.25, 0.45)
        elbow = np.array([rng.uniform(-0.2, 0.0), base_h + a1 * rng.uniform(0.8, 1.0), 0.0])
        elbow[1] = base_h + np.sqrt(max(a1**2 - elbow[0] ** 2, 0.01))
        wrist = elbow + [a2 * rng.uniform(0.7, 1.0), rng.uniform(-0.1, 0.15), 0.0]
        s.add(P.tube(np.array([[0, base_h - 0.01, 0], elbow, wrist]), pole_r, 8), base_m)
        s.add(P.sphere(elbow, pole_r * 1.8, 8), base_m)
        head = rng.uniform(0.08, 0.16)
        s.add(P.frustum(wrist, wrist + [head * 0.6, -head, 0], head * 0.2, head * 0.55, 20), shade_m)
        return s
    h = rng.uniform(0.3, 0.6) if kind == "table" else rng.uniform(1.1, 1.6)
    if rng.random() < 0.2 and kind == "floor":  # arched floor lamp
        reach = rng.uniform(0.3, 0.6)
        path = np.concatenate([[[0, base_h - 0.01, 0]], P.arc((reach, h - reach, 0), reach, 180, 60, "xy", 8)])
        s.add(P.tube(path, pole_r, 8), base_m)
        end = path[-1]
        shade(end + [0.0, -0.02, 0], rng.uniform(0.2, 0.35))
        return s
    s.add(P.cylinder((0, base_h - 0.01, 0), (0, h, 0), pole_r, 10), base_m)
    size = rng.uniform(0.25, 0.45) if kind == "table" else rng.uniform(0.3, 0.5)
    shade((0, h + size * 0.3, 0), size)
    return s


def loudspeaker(rng: np.random.Generator) -> Shape:
    """Bookshelf and tower speakers, subwoofers, grilles and cylindrical smart speakers; drivers on the +x face."""
    s = Shape()
    cab = s.material(mat.pick(rng, dark=4, wood=2, light=1, paint=1))
    cone = s.material(mat.pick(rng, dark=3, metal=1, light=1))
    ring = s.material(mat.pick(rng, metal=2, dark=2))
    kind = rng.choice(["bookshelf", "tower", "sub", "round", "grille"], p=[0.3, 0.3, 0.12, 0.13, 0.15])
    if kind == "round":
        h, r = rng.uniform(0.15, 0.4), rng.uniform(0.06, 0.12)
        s.add(P.cylinder((0, 0.01, 0), (0, h - 0.02, 0), r, 32), cab)
        s.add(P.frustum((0, h - 0.021, 0), (0, h, 0), r, r * 0.85, 32), cab)
        if rng.random() < 0.5:
            s.add(P.cylinder((0, 0, 0), (0, 0.012, 0), r * 0.9, 32), ring)
        return s
    width = {"bookshelf": rng.uniform(0.15, 0.25), "tower": rng.uniform(0.18, 0.3),
             "sub": rng.uniform(0.3, 0.45), "grille": rng.uniform(0.2, 0.35)}[kind]
    height = {"bookshelf": rng.uniform(0.25, 0.4), "tower": rng.uniform(0.8, 1.1),
              "sub": width * rng.uniform(0.9, 1.1), "grille": rng.uniform(0.3, 0.9)}[kind]
    depth = rng.uniform(0.2, 0.35) if kind != "sub" else width
    feet = rng.uniform(0.01, 0.04) if rng.random() < 0.4 else 0.0
    s.add(P.rounded_box((0, feet + height / 2, 0), (depth, height, width), rng.uniform(0.002, 0.02)), cab)
    if feet:
        cx, cz = depth / 2 - 0.03, width / 2 - 0.03
        for sx in (-1, 1):
            for sz in (-1, 1):
                s.add(P.cylinder((sx * cx, 0, sz * cz), (sx * cx, feet + 0.005, sz * cz), 0.012, 10), ring)
    front = depth / 2
    if kind == "grille":
        s.add(P.rounded_box((front + 0.008, feet + height / 2, 0), (0.02, height - 0.02, width - 0.02), 0.006), s.material(mat.dark(rng)))
        return s
    if kind == "sub":
        drivers = [(feet + height / 2, width * 0.4)]
    else:
        n = int(rng.integers(1, 3)) if kind == "bookshelf" else int(rng.integers(2, 5))
        tweeter = width * rng.uniform(0.12, 0.18)
        woofer = width * rng.uniform(0.3, 0.42)
        top = feet + height - width * 0.25
        drivers = [(top, tweeter)] + [(top - width * 0.35 - i * woofer * 2.3, woofer) for i in range(n)]
        drivers = [(y, r) for y, r in drivers if y - r > feet + 0.01]
    for y, r in drivers:
        s.add(P.cylinder((front - 0.005, y, 0), (front + 0.008, y, 0), r, 28), ring)
        s.add(P.frustum((front + 0.007, y, 0), (front + 0.007 + r * 0.25, y, 0), r * 0.85, r * 0.3, 24), cone)
    if rng.random() < 0.4:  # bass port
        s.add(P.cylinder((front - 0.005, feet + 0.06, 0), (front + 0.006, feet + 0.06, 0), width * 0.08, 16), cone)
    return s


def telephone(rng: np.random.Generator) -> Shape:
    """Smartphones (upright, screen at +x), keypad phones and desk phones with handsets."""
    s = Shape()
    body = s.material(mat.pick(rng, dark=4, metal=2, light=1, paint=1))
    screen = s.material(mat.glass(rng) if rng.random() < 0.5 else mat.dark(rng))
    kind = rng.choice(["smart", "keypad", "desk"], p=[0.65, 0.15, 0.2])
    if kind == "desk":
        w, d = rng.uniform(0.18, 0.25), rng.uniform(0.18, 0.25)
        front_h, back_h = rng.uniform(0.03, 0.05), rng.uniform(0.07, 0.1)
        s.add(P.rounded_prism(np.array([[d / 2, 0], [d / 2, front_h], [-d / 2, back_h], [-d / 2, 0]]), "z", -w / 2, w / 2, 0.01), body)
        hl = w * rng.uniform(0.9, 1.1)
        hy = back_h + 0.02
        s.add(P.capsule((-d / 4, hy, -hl / 2 + 0.03), (-d / 4, hy, hl / 2 - 0.03), 0.018), body)
        for sz in (-1, 1):
            s.add(P.rounded_box((-d / 4, hy - 0.01, sz * (hl / 2 - 0.03)), (0.05, 0.035, 0.05), 0.012), body)
        keys = s.material(mat.pick(rng, light=2, dark=1, metal=1))
        slope = (back_h - front_h) / d
        for i in range(4):
            for j in range(3):
                x = d * 0.35 - 0.03 * i
                y = front_h + slope * (d / 2 - x) + 0.002
                s.add(P.box((x, y, (j - 1) * 0.03), (0.02, 0.008, 0.02)), keys)
        return s
    h = rng.uniform(0.12, 0.17) if kind == "smart" else rng.uniform(0.1, 0.14)
    w = h * rng.uniform(0.45, 0.55) if kind == "smart" else h * rng.uniform(0.38, 0.45)
    t = h * rng.uniform(0.05, 0.09) if kind == "smart" else h * rng.uniform(0.12, 0.18)
    s.add(P.rounded_box((0, h / 2, 0), (t, h, w), min(t * 0.45, rng.uniform(0.003, 0.01))), body)
    margin = rng.uniform(0.003, 0.01)
    front = t / 2
    if kind == "smart":
        top, bottom = margin * rng.uniform(1, 2.5), margin * rng.uniform(1, 2.5)
        s.add(P.box((front, (h + bottom - top) / 2, 0), (0.002, h - top - bottom, w - 2 * margin)), screen)
        if rng.random() < 0.6:  # camera bump at the back
            s.add(P.rounded_box((-front, h - w * 0.25, w * 0.2), (0.004, w * 0.35, w * 0.35), 0.004), s.material(mat.dark(rng)))
    else:
        s.add(P.box((front, h * 0.72, 0), (0.002, h * 0.35, w - 2 * margin)), screen)
        keys = s.material(mat.pick(rng, light=2, dark=1, metal=1))
        for i in range(4):
            for j in range(3):
                s.add(P.box((front, h * 0.42 - i * h * 0.085, (j - 1) * w * 0.28), (0.004, h * 0.06, w * 0.2)), keys)
    return s
