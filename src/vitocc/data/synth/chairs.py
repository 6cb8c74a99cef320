"""Chairs and stools (y up, front +x, seat width along z; roughly metres before normalisation).

A chair is one of `CHAIR_KINDS`, drawn with its probability; chairs with a frame draw
their back from `BACK_STYLES`. Thin parts are as thin as in real models: stacking-chair
legs of 1-1.5 cm, wire braces of 8 mm, shells and slats of 1-2 cm. Each is still a
convex part (a bent shell is one part per grid cell, `primitives.sheet`), so the exact
occupancy and the surface see them.
"""

from __future__ import annotations

import numpy as np

from vitocc.data.synth import materials as mat
from vitocc.data.synth import primitives as P
from vitocc.data.synth.furniture import corner_legs, leg, sofa
from vitocc.data.synth.shape import Shape, choose

CHAIR_KINDS = {  # kind: probability
    "four_legs": 0.23,  # side chairs: round, square or tapered legs, maybe splayed, stretchers, arms
    "armchair": 0.09,  # open arms on posts over splayed legs
    "office": 0.1,  # swivel pedestal with 4-5 spokes (casters) or a disc
    "bar_stool": 0.11,  # seat at 0.6-0.8 m, rungs or a footrest ring, no, low or medium back
    "shell": 0.12,  # one bent seat-and-back shell on thin legs, an X base, a star or a wire sled
    "stacking": 0.1,  # thin metal frame (legs 1-1.5 cm), thin seat, curved back
    "tube": 0.07,  # bent-tube sled or cantilever
    "panels": 0.03,  # side panels
    "upholstered": 0.1,  # club armchairs (the sofa generator) and wing-backs
    "stool": 0.05,  # low stools on 3-4 legs
}
BACK_STYLES = {  # style: probability, for chairs with a frame
    "solid": 0.18, "tall": 0.1, "round": 0.08, "slats": 0.13, "ladder": 0.14, "rails": 0.1, "curved": 0.15,
    "spindles": 0.12,
}


def chair(rng: np.random.Generator, kind: str | None = None) -> Shape:
    """A chair of `kind` (one of CHAIR_KINDS; drawn when None); `Shape.style` names it."""
    kind = kind or choose(rng, CHAIR_KINDS)
    s = _KIND_FUNCTIONS[kind](rng)
    s.style = kind
    return s


# ---------------------------------------------------------------- parts shared by the kinds

def _materials(rng, s: Shape, **frame_weights: float) -> tuple[int, int]:
    """(frame, seat) material indices; the seat is often the frame's material."""
    frame = s.material(mat.pick(rng, **(frame_weights or dict(wood=3, metal=2, paint=2, dark=1))))
    seat = frame if rng.random() < 0.4 else s.material(mat.pick(rng, fabric=3, wood=1, paint=1, dark=1))
    return frame, seat


def _seat(s: Shape, rng, d: float, w: float, h: float, t: float, material: int, round_seat: bool = False) -> None:
    """A seat of depth d (x), width w (z) and thickness t whose top is at h."""
    if round_seat:
        s.add(P.cylinder((0, h - t, 0), (0, h, 0), max(w, d) / 2, 28), material)
    elif rng.random() < 0.5:
        s.add(P.rounded_box((0, h - t / 2, 0), (d, t, w), rng.uniform(0.005, t / 2)), material)
    else:
        s.add(P.box((0, h - t / 2, 0), (d, t, w)), material)


def _bent_band(y0: float, y1: float, half_w: float, depth: float, rows: int = 2, columns: int = 7) -> np.ndarray:
    """Mid-surface grid (rows, columns, 3) of a band across z at x = 0, from y0 to y1, whose
    middle is `depth` behind (-x) its ends: curved backs and slats."""
    z = np.linspace(-half_w, half_w, columns)
    y = np.linspace(y0, y1, rows)
    x = -depth * (1 - (z / half_w) ** 2)
    return np.stack(np.broadcast_arrays(x[None, :], y[:, None], z[None, :]), -1)


def _back(s: Shape, rng, style: str, d: float, w: float, h: float, frame: int, back_m: int,
          back_h: float | None = None, tilt: float | None = None) -> None:
    """A back rest of `style` (BACK_STYLES) on the rear edge of a seat (depth d, width w, top at h), leaning back."""
    bt = rng.uniform(0.02, 0.06)
    back_h = back_h or (rng.uniform(0.6, 0.85) if style == "tall" else rng.uniform(0.3, 0.6))
    tilt = rng.uniform(0, 16) if tilt is None else tilt
    rot = P.rotation("z", tilt)
    origin = np.array([-d / 2 + bt / 2, h - 0.01, 0.0])

    def add(points, material: int) -> None:
        for pts in points if isinstance(points, list) else [points]:
            s.add(P.place(pts, origin, rot), material)

    if style in ("solid", "tall"):
        top_w = w * (rng.uniform(0.7, 1.0) if rng.random() < 0.4 else 1.0)
        r = rng.uniform(0.003, bt / 2)
        add(np.concatenate([P.rounded_box((0, 0.02, 0), (bt, 0.04, w), r), P.rounded_box((0, back_h - 0.02, 0), (bt, 0.04, top_w), r)]),
            back_m)
        return
    if style == "round":
        add(P.ellipsoid((0, back_h * 0.6, 0), (bt / 2, back_h * 0.42, w / 2), sections=20), back_m)
        add(P.box((0, back_h * 0.12, 0), (bt, back_h * 0.3, w * 0.45)), back_m)
        return
    post = rng.uniform(0.02, 0.04)
    zp = w / 2 - post / 2
    if style == "curved":  # a bent band (or a whole bent back) between two posts
        depth = rng.uniform(0.02, 0.07)
        y0 = 0.0 if rng.random() < 0.4 else back_h - rng.uniform(0.12, 0.25)
        plate = rng.uniform(0.012, 0.025)
        add(P.sheet(_bent_band(y0 + (0.01 if y0 else -0.005), back_h, zp + post / 2, depth, 3), plate), back_m)
        if y0 > 0:
            for sz in (-1, 1):
                add(P.box((0, (y0 + 0.04) / 2, sz * zp), (post, y0 + 0.04, post)), frame)
        return
    if style == "spindles":  # a bent top rail on thin spindles (Windsor)
        depth, rail = rng.uniform(0.02, 0.06), rng.uniform(0.05, 0.09)
        add(P.sheet(_bent_band(back_h - rail, back_h, zp + post / 2, depth, 2), rng.uniform(0.02, 0.035)), frame)
        n, r = int(rng.integers(4, 9)), rng.uniform(0.005, 0.009)
        for z in np.linspace(-zp, zp, n + 2):
            x = -depth * (1 - (z / (zp + post / 2)) ** 2)
            add(P.cylinder((x, 0.0, z), (x, back_h - rail / 2, z), post / 2 if abs(z) == zp else r, 10), frame)
        return
    for sz in (-1, 1):  # slats, ladder and rails hang between two posts
        add(P.box((0, back_h / 2, sz * zp), (bt, back_h, post)), frame)
    if style == "ladder":  # horizontal slats bent backwards, between posts that end in a finial
        n = int(rng.integers(3, 6))
        sh, depth, st = rng.uniform(0.035, 0.06), rng.uniform(0.0, 0.03), rng.uniform(0.012, 0.02)
        for y in np.linspace(back_h * rng.uniform(0.25, 0.45), back_h - sh / 2, n):
            add(P.sheet(_bent_band(y - sh / 2, y + sh / 2, zp, depth, 2, 5), st), back_m)
        if rng.random() < 0.5:
            for sz in (-1, 1):
                add(P.sphere((0, back_h + post * 0.4, sz * zp), post * 0.7, 10), frame)
        return
    add(P.box((0, back_h - 0.03, 0), (bt, rng.uniform(0.04, 0.1), w)), back_m)
    if style == "slats":
        n = int(rng.integers(2, 7))
        for z in np.linspace(-w / 2 + post, w / 2 - post, n + 2)[1:-1]:
            add(P.box((0, back_h / 2, z), (bt * 0.6, back_h, rng.uniform(0.015, 0.04))), frame)
    else:  # rails
        for y in np.linspace(0.1, back_h - 0.08, int(rng.integers(1, 4)) + 1)[:-1]:
            add(P.box((0, y, 0), (bt * 0.7, rng.uniform(0.02, 0.06), w)), back_m)


def _arms(s: Shape, rng, d: float, w: float, h: float, t: float, frame: int, pad: int) -> None:
    """Arm rests over both sides of a seat: on a panel or on a front post."""
    arm_h = rng.uniform(0.18, 0.28)
    aw = rng.uniform(0.03, 0.08)
    on_panel = rng.random() < 0.5
    length = d * rng.uniform(0.7, 1.0)
    post_x = min(d / 2 - 0.06, length / 2 - 0.05)  # under the pad
    for sz in (-1, 1):
        z = sz * (w / 2 + aw / 2 - 0.01)
        s.add(P.rounded_box((-0.02, h + arm_h, z), (length, 0.03, aw), 0.012), pad)
        edge = sz * (w / 2 - 0.006)  # the support stands on the seat's edge, under the pad
        if on_panel:
            s.add(P.box((0.0, h + arm_h / 2 - t / 2, edge + sz * aw * 0.3), (min(d * 0.8, length), arm_h + t, aw * 0.6)), frame)
        else:
            s.add(P.cylinder((post_x, h - t, edge), (post_x, h + arm_h, edge), 0.013, 10), frame)


def _legs_at(s: Shape, heads: np.ndarray, top: float, splay: float, thick: float, style: str,
             material: int) -> tuple[np.ndarray, np.ndarray]:
    """Legs under the points `heads` (n,2) (x, z) from the floor to `top`, feet moved out by `splay`.

    Returns feet and heads (n,3), for rungs between the legs.
    """
    heads = np.asarray(heads, dtype=np.float64)
    out = heads / np.linalg.norm(heads, axis=1, keepdims=True)
    feet3 = np.stack([heads[:, 0] + splay * out[:, 0], np.zeros(len(heads)), heads[:, 1] + splay * out[:, 1]], 1)
    heads3 = np.stack([heads[:, 0], np.full(len(heads), top), heads[:, 1]], 1)
    for foot, head in zip(feet3, heads3):
        leg(s, foot, head, thick, style, material)
    return feet3, heads3


def _on_legs(feet: np.ndarray, heads: np.ndarray, y: float) -> np.ndarray:
    """Points (n,3) of the legs' axes at height y."""
    f = y / heads[0, 1]
    return feet + f * (heads - feet)


def _rungs(s: Shape, feet: np.ndarray, heads: np.ndarray, y: float, r: float, material: int, only: list[int] | None = None) -> None:
    """Rungs between consecutive legs at height y (all around, or the sides in `only`)."""
    p = _on_legs(feet, heads, y)
    for i in only if only is not None else range(len(p)):
        s.add(P.cylinder(p[i], p[(i + 1) % len(p)], r, 8), material)


def _back_on_round_seat(radius: float, rng) -> tuple[float, float]:
    """(depth, width) to give `_back` so that a back of that width stands on a round seat:
    its posts on the disc, not beside it."""
    width = radius * rng.uniform(1.0, 1.4)
    return 2 * (np.sqrt(radius**2 - (width / 2) ** 2) - 0.01), width


def _corners(d: float, w: float, inset: float) -> np.ndarray:
    """The four leg heads (4,2) under a d x w seat, in order around it (for rungs)."""
    x, z = d / 2 - inset, w / 2 - inset
    return np.array([[x, z], [-x, z], [-x, -z], [x, -z]])


# ---------------------------------------------------------------- the kinds

def _four_legs(rng) -> Shape:
    s = Shape()
    frame, seat_m = _materials(rng, s)
    w, d = rng.uniform(0.38, 0.56), rng.uniform(0.38, 0.56)
    h, t = rng.uniform(0.4, 0.5), rng.uniform(0.025, 0.09)
    round_seat = rng.random() < 0.1
    _seat(s, rng, d, w, h, t, seat_m, round_seat)
    inset = rng.uniform(0.02, 0.05)
    splay = 0.0 if rng.random() < 0.6 else rng.uniform(0.01, 0.06)
    style = str(rng.choice(["round", "square", "tapered"]))
    corners = _corners(d, w, inset)
    if round_seat:  # under the disc, not at the square's corners
        corners *= max(w, d) / 2 * 0.8 / np.linalg.norm(corners[0])
    feet, heads = _legs_at(s, corners, h - t / 2, splay, rng.uniform(0.02, 0.05), style, frame)
    if rng.random() < 0.4:  # stretchers: all around, at the sides, or H
        y, r = rng.uniform(0.1, 0.25), rng.uniform(0.008, 0.015)
        _rungs(s, feet, heads, y, r, frame, [0, 1, 2, 3] if rng.random() < 0.35 else [0, 2])  # all round, or the sides
        if rng.random() < 0.3:
            mid = _on_legs(feet, heads, y)
            s.add(P.cylinder((mid[0] + mid[1]) / 2, (mid[2] + mid[3]) / 2, r, 8), frame)
    back_m = seat_m if rng.random() < 0.7 else frame
    back_d, back_w = _back_on_round_seat(max(w, d) / 2, rng) if round_seat else (d, w)
    _back(s, rng, choose(rng, BACK_STYLES), back_d, back_w, h, frame, back_m)
    if rng.random() < 0.25 and not round_seat:
        _arms(s, rng, d, w, h, t, frame, seat_m)
    return s


def _armchair(rng) -> Shape:
    """Open arms on front posts over splayed legs, a cushion on a frame."""
    s = Shape()
    frame = s.material(mat.pick(rng, wood=4, metal=1, dark=1, paint=1))
    cushion = s.material(mat.pick(rng, fabric=4, dark=1, light=1))
    w, d = rng.uniform(0.5, 0.64), rng.uniform(0.5, 0.64)
    h, rail = rng.uniform(0.36, 0.43), rng.uniform(0.04, 0.07)
    s.add(P.box((0, h - rail / 2, 0), (d, rail, w)), frame)
    ct = rng.uniform(0.05, 0.12)
    s.add(P.rounded_box((0.01, h + ct / 2 - 0.01, 0), (d - 0.02, ct, w - 0.04), rng.uniform(0.01, ct / 2)), cushion)
    inset = rng.uniform(0.02, 0.04)
    style = str(rng.choice(["round", "tapered", "square"], p=[0.35, 0.5, 0.15]))
    _legs_at(s, _corners(d, w, inset), h - rail / 2, rng.uniform(0.03, 0.08), rng.uniform(0.03, 0.05), style, frame)
    back, tilt = choose(rng, {"solid": 0.3, "curved": 0.2, "slats": 0.15, "tall": 0.1, "rails": 0.1, "spindles": 0.15}), rng.uniform(6, 20)
    _back(s, rng, back, d, w, h + ct - 0.01, frame, cushion if back in ("solid", "tall") else frame, tilt=tilt)
    arm_y, aw, at = h + ct + rng.uniform(0.14, 0.22), rng.uniform(0.04, 0.08), rng.uniform(0.02, 0.035)
    lean = rng.uniform(-0.02, 0.05)
    post_r = rng.uniform(0.012, 0.022)
    two_posts = rng.random() < 0.3
    x_front = d / 2 - inset
    xa0, xa1 = -d / 2 - (arm_y - h) * np.tan(np.radians(tilt)), x_front + lean + 0.03  # from inside the back to past the post
    for sz in (-1, 1):
        z = sz * (w / 2 - inset)
        s.add(P.rounded_box(((xa0 + xa1) / 2, arm_y, z), (xa1 - xa0, at, aw), at / 2.5), frame)
        s.add(P.cylinder((x_front, h - rail, z), (x_front + lean, arm_y, z), post_r, 10), frame)
        if two_posts:
            s.add(P.cylinder((-d / 4, h - rail, z), (-d / 4, arm_y, z), post_r * 0.7, 10), frame)
    return s


def _office(rng) -> Shape:
    """A swivel chair: a column on 4-5 spokes with casters (or a disc), a padded back, T arms."""
    s = Shape()
    frame = s.material(mat.pick(rng, dark=3, metal=2, paint=1))
    seat_m = s.material(mat.pick(rng, fabric=3, dark=3, paint=1))
    w, d = rng.uniform(0.44, 0.55), rng.uniform(0.42, 0.52)
    h, t = rng.uniform(0.42, 0.52), rng.uniform(0.05, 0.1)
    s.add(P.rounded_box((0, h - t / 2, 0), (d, t, w), rng.uniform(0.01, t / 2)), seat_m)
    _swivel_base(s, rng, h - t + 0.01, frame, disc=rng.random() < 0.2)
    gap = rng.uniform(0.03, 0.1) if rng.random() < 0.6 else 0.0
    if gap:  # the back on a spine at the seat's rear edge
        s.add(P.box((-d / 2, h - t / 2 + gap / 2 + 0.03, 0), (0.03, t + gap + 0.06, 0.07)), frame)
    styles = {"solid": 0.4, "tall": 0.35, "round": 0.1} | ({} if gap else {"curved": 0.15})  # a curved back has no middle on a spine
    _back(s, rng, choose(rng, styles), d, w, h + gap, frame, seat_m, tilt=rng.uniform(4, 18))
    if rng.random() < 0.5:  # T arms
        arm_y = h + rng.uniform(0.18, 0.26)
        for sz in (-1, 1):
            z = sz * (w / 2 + 0.03)
            s.add(P.box((-0.03, (h - t - 0.015 + arm_y) / 2, z), (0.04, arm_y - h + t + 0.015, 0.025)), frame)
            s.add(P.box((-0.03, h - t - 0.006, sz * (w / 2 - 0.02)), (0.05, 0.02, 0.12)), frame)
            s.add(P.rounded_box((-0.01, arm_y, z), (rng.uniform(0.2, 0.3), 0.03, 0.06), 0.012), seat_m)
    return s


def _swivel_base(s: Shape, rng, top: float, material: int, disc: bool = False, spokes: int | None = None) -> None:
    """A gas-lift column up to `top` on a star of spokes with casters (or glides), or on a disc."""
    col = rng.uniform(0.02, 0.04)
    foot_y = rng.uniform(0.05, 0.1)
    s.add(P.cylinder((0, foot_y, 0), (0, top, 0), col, 16), material)
    if disc:  # flat or domed
        radius, disc_h = rng.uniform(0.18, 0.26), rng.uniform(0.015, 0.04)
        s.add(P.frustum((0, 0, 0), (0, disc_h, 0), radius, radius * rng.uniform(0.6, 1.0), 28), material)
        if disc_h < foot_y:
            s.add(P.frustum((0, disc_h - 0.005, 0), (0, foot_y + 0.01, 0), col * 2.5, col, 16), material)
        return
    n, reach = spokes or int(rng.choice([4, 5, 5, 5])), rng.uniform(0.25, 0.33)
    wheels = rng.random() < 0.7
    lift = 0.05 if wheels else 0.0
    for a in np.linspace(0, 360, n, endpoint=False) + rng.uniform(0, 72):
        tip = P.rotation("y", a) @ np.array([reach, 0.0, 0.0])
        spoke = [P.box((0, foot_y + lift, 0), (0.05, 0.04, 0.05)), P.box(tip + [0, lift + 0.01, 0], (0.04, 0.025, 0.035))]
        s.add(np.concatenate(spoke), material)
        if wheels:
            s.add(P.sphere(tip + [0, 0.028, 0], 0.028, 10), material)


def _stool(rng, tall: bool) -> Shape:
    """Bar and counter stools (seat at 0.6-0.8 m) or low stools: 3-4 splayed legs with rungs
    or a footrest ring, or a pedestal; bar stools may have a low or medium back."""
    s = Shape()
    frame = s.material(mat.pick(rng, metal=3, wood=3, dark=1, paint=1))
    seat_m = frame if rng.random() < 0.3 else s.material(mat.pick(rng, fabric=2, wood=2, dark=2, paint=1))
    h = rng.uniform(0.6, 0.8) if tall else rng.uniform(0.42, 0.5)
    t = rng.uniform(0.03, 0.08)
    round_seat = rng.random() < 0.55
    if round_seat:
        w = d = 2 * rng.uniform(0.16, 0.22)
        s.add(P.frustum((0, h - t, 0), (0, h, 0), w / 2 * rng.uniform(0.85, 1.0), w / 2, 28), seat_m)
    else:
        w, d = rng.uniform(0.34, 0.44), rng.uniform(0.32, 0.42)
        s.add(P.rounded_box((0, h - t / 2, 0), (d, t, w), rng.uniform(0.005, t / 2)), seat_m)
    base = choose(rng, {"legs": 0.7, "pedestal": 0.3 if tall else 0.0})
    if base == "legs":
        n = 4 if rng.random() < 0.8 else 3
        if round_seat or n == 3:
            rho = w / 2 * rng.uniform(0.7, 0.85)
            angles = np.radians(np.linspace(0, 360, n, endpoint=False) + (45 if n == 4 else 0))
            heads = rho * np.stack([np.cos(angles), np.sin(angles)], 1)
        else:
            heads = _corners(d, w, rng.uniform(0.02, 0.04))
        metal_thin = rng.random() < 0.5
        thick = rng.uniform(0.018, 0.03) if metal_thin else rng.uniform(0.03, 0.045)
        style = "round" if metal_thin else str(rng.choice(["round", "square", "tapered"]))
        splay = rng.uniform(0.03, 0.1) * (1.0 if tall else 0.6)
        feet, heads3 = _legs_at(s, heads, h - t / 2, splay, thick, style, frame)
        y = (rng.uniform(0.2, 0.32) if tall else rng.uniform(0.12, 0.2))
        r = rng.uniform(0.007, 0.014)
        if rng.random() < 0.35:  # a footrest ring through the legs
            ring = np.linalg.norm(_on_legs(feet, heads3, y)[0, [0, 2]])
            s.add(P.tube(P.arc((0, y, 0), ring, 0, 360, "xz", 24), r, 8), frame)
        elif rng.random() < 0.85:
            _rungs(s, feet, heads3, y, r, frame)
            if tall and rng.random() < 0.4:  # a second ring of rungs higher up
                _rungs(s, feet, heads3, y + rng.uniform(0.15, 0.25), r, frame)
    else:
        _swivel_base(s, rng, h - t + 0.01, frame, disc=rng.random() < 0.6, spokes=int(rng.choice([4, 5])))
        if rng.random() < 0.8:  # footrest ring on spokes
            y, ring, r = rng.uniform(0.22, 0.32), rng.uniform(0.14, 0.2), rng.uniform(0.008, 0.014)
            s.add(P.tube(P.arc((0, y, 0), ring, 0, 360, "xz", 24), r, 8), frame)
            for a in np.radians([45, 135, 225, 315][: int(rng.choice([2, 4]))]):
                s.add(P.cylinder((0, y, 0), (ring * np.cos(a), y, ring * np.sin(a)), r * 0.8, 8), frame)
    if not tall:
        return s
    back = choose(rng, {"none": 0.4, "low": 0.35, "medium": 0.25})
    if back == "low":  # a curved band on two thin posts standing on the seat's rear edge
        depth, band = rng.uniform(0.03, 0.08), rng.uniform(0.06, 0.12)
        y1 = h + rng.uniform(0.14, 0.26)
        half = w / 2 * rng.uniform(0.7, 0.95)
        post_z = half * 0.6
        post_x = (-np.sqrt((w / 2) ** 2 - post_z**2) if round_seat else -d / 2) + 0.02
        grid = _bent_band(y1 - band, y1, half, depth, 2, 7) + [post_x + depth * (1 - 0.36), 0, 0]  # through the posts
        s.add(P.sheet(grid, rng.uniform(0.012, 0.025)), seat_m if rng.random() < 0.5 else frame)
        for sz in (-1, 1):
            z, x = sz * post_z, post_x
            s.add(P.cylinder((x, h - t / 2, z), (x, y1 - band / 2, z), rng.uniform(0.007, 0.012), 10), frame)
    elif back == "medium":
        back_d, back_w = _back_on_round_seat(w / 2, rng) if round_seat else (d, w * 0.9)
        _back(s, rng, choose(rng, {"solid": 0.35, "slats": 0.2, "rails": 0.2, "curved": 0.25}), back_d, back_w, h, frame,
              seat_m, back_h=rng.uniform(0.22, 0.38), tilt=rng.uniform(0, 12))
    return s


def _shell_profile(d: float, h: float, sag: float, bend: float, tilt_deg: float, back_h: float,
                   lip: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Side profile (K,2) (x, y) of a shell from its front lip over the seat, round a bend of
    radius `bend`, up a back leaning by `tilt_deg`; the normals (K,2) towards the sitter, and
    the index where the seat ends."""
    front = np.array([d / 2, h])
    seat_end = np.array([-d / 2 + bend, h - sag])
    seat = front + np.linspace(0, 1, 4)[:, None] * (seat_end - front)
    u = (seat_end - front) / np.linalg.norm(seat_end - front)
    centre = seat_end + bend * np.array([u[1], -u[0]])
    a0 = np.arctan2(u[1], u[0])
    a1 = np.radians(90 + tilt_deg)
    if a0 < a1:
        a0 += 2 * np.pi
    theta = np.linspace(a0, a1, 5)[1:]
    bent = centre + bend * np.stack([-np.sin(theta), np.cos(theta)], 1)
    up = np.array([np.cos(a1), np.sin(a1)])  # the back's direction
    back = bent[-1] + np.linspace(0, 1, 4)[1:, None] * back_h * up
    profile = np.concatenate([[front + [0.02, -lip]], seat, bent, back])
    tangent = np.gradient(profile, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    return profile, np.stack([tangent[:, 1], -tangent[:, 0]], 1), 1 + len(seat)


def _shell(rng) -> Shape:
    """A one-piece moulded seat and back (a bent sheet, dished at the sides) on thin legs
    (maybe wire-braced), a four-arm X base, a five-star swivel base or a wire sled."""
    s = Shape()
    shell_m = s.material(mat.pick(rng, paint=3, light=2, dark=2, wood=1))
    base_m = s.material(mat.pick(rng, metal=3, wood=2, dark=2))
    w, d = rng.uniform(0.44, 0.56), rng.uniform(0.4, 0.5)
    h, th = rng.uniform(0.41, 0.47), rng.uniform(0.008, 0.02)
    sag, bend, tilt = rng.uniform(0.02, 0.05), rng.uniform(0.04, 0.12), rng.uniform(8, 22)
    profile, normal, seat_end = _shell_profile(d, h, sag, bend, tilt, rng.uniform(0.3, 0.48), rng.uniform(0.01, 0.04))
    k = len(profile)
    width = np.concatenate([np.full(seat_end, w), np.linspace(w, w * rng.uniform(0.8, 1.05), k - seat_end)])
    dish = np.full(k, rng.uniform(0.01, 0.07))
    if rng.random() < 0.25:  # arm shell: the sides rise round the bend
        dish += rng.uniform(0.08, 0.16) * np.exp(-((np.arange(k) - seat_end - 1.5) / 2.0) ** 2)
    power = float(rng.choice([2.0, 4.0]))
    v = np.linspace(-1, 1, 7)
    lift = dish[:, None] * np.abs(v)[None] ** power  # (K, 7) along the normal
    grid = np.stack([profile[:, None, 0] + lift * normal[:, None, 0], profile[:, None, 1] + lift * normal[:, None, 1],
                     v[None] * width[:, None] / 2], -1)
    s.add(P.sheet(grid, th), shell_m)

    def under(x: float, z: float) -> float:  # the shell's mid-surface height over (x, z) on the seat
        f = np.clip((d / 2 - x) / (d - bend), 0, 1)
        return h - f * sag + dish[2] * abs(2 * z / w) ** power

    base = choose(rng, {"legs": 0.4, "x_base": 0.22, "star": 0.23, "sled": 0.15})
    plate = (0.5 * d, 0.025, 0.45 * w)
    x0, x1 = -plate[0] / 2, plate[0] / 2
    top = under(0, 0) - th / 2
    if base != "sled":  # a mounting plate under the seat
        s.add(np.concatenate([P.box((x0, under(x0, 0) - th / 2 - plate[1] / 2 + 0.003, 0), (1e-3, plate[1], plate[2])),
                              P.box((x1, under(x1, 0) - th / 2 - plate[1] / 2 + 0.003, 0), (1e-3, plate[1], plate[2]))]), base_m)
    if base == "legs":
        metal = rng.random() < 0.5
        r = rng.uniform(0.005, 0.009) if metal else rng.uniform(0.01, 0.016)
        splay = rng.uniform(0.04, 0.09)
        heads = _corners(plate[0] + 0.04, plate[2] + 0.04, 0.02)
        out = heads / np.linalg.norm(heads, axis=1, keepdims=True)
        feet = np.stack([heads[:, 0] + splay * out[:, 0], np.zeros(4), heads[:, 1] + splay * out[:, 1]], 1)
        heads3 = np.stack([heads[:, 0], [under(x, z) - th / 2 for x, z in heads], heads[:, 1]], 1)
        for foot, head in zip(feet, heads3):
            s.add(P.cylinder(foot, head, r, 10) if metal else P.frustum(foot, head, r * 0.7, r, 10), base_m)
        if rng.random() < 0.6:  # wire cross braces between the front and back legs (Eiffel base)
            wire = rng.uniform(0.003, 0.005)
            for i, j in ((0, 1), (3, 2)) + (((0, 3), (1, 2)) if rng.random() < 0.5 else ()):
                lo_i, lo_j = feet[i] + 0.35 * (heads3[i] - feet[i]), feet[j] + 0.35 * (heads3[j] - feet[j])
                hi_i, hi_j = feet[i] + 0.9 * (heads3[i] - feet[i]), feet[j] + 0.9 * (heads3[j] - feet[j])
                s.add(P.cylinder(lo_i, hi_j, wire, 6), base_m)
                s.add(P.cylinder(hi_i, lo_j, wire, 6), base_m)
    elif base == "x_base":  # four flat arms on the floor round a column
        col, reach = rng.uniform(0.02, 0.035), rng.uniform(0.26, 0.34)
        s.add(P.cylinder((0, 0.03, 0), (0, top - plate[1] + 0.005, 0), col, 16), base_m)
        ah, aw = rng.uniform(0.02, 0.04), rng.uniform(0.03, 0.05)
        for a in np.arange(4) * 90 + 45 + (0 if rng.random() < 0.7 else 45):
            tip = P.rotation("y", a) @ np.array([reach, 0.0, 0.0])
            s.add(np.concatenate([P.box((0, 0.03 + ah / 2, 0), (aw * 1.6, ah, aw * 1.6)), P.box(tip + [0, ah * 0.35, 0], (aw * 0.6, ah * 0.7, aw * 0.6))]),
                  base_m)
    elif base == "star":
        _swivel_base(s, rng, top - plate[1] + 0.005, base_m, spokes=5)
    else:  # wire sled: a bent rod under each side
        r = rng.uniform(0.006, 0.011)
        xs = d / 2 - 0.06, -d / 2 + bend + 0.02
        for sz in (-1, 1):
            z = sz * (w / 2 - 0.07)
            path = np.array([[xs[1], under(xs[1], z), z], [xs[1] - 0.04, 0.0, z], [xs[0] + 0.04, 0.0, z], [xs[0], under(xs[0], z), z]])
            s.add(P.tube(path, r, 8), base_m)
        s.add(P.cylinder((0, under(0, 0) - th / 2 - r, -(w / 2 - 0.07)), (0, under(0, 0) - th / 2 - r, w / 2 - 0.07), r, 8), base_m)
    return s


def _stacking(rng) -> Shape:
    """A thin metal frame (legs 1-1.5 cm): front legs, rear legs bent up into the back posts,
    a thin seat, a bent back band or back, maybe stretchers and thin arms."""
    s = Shape()
    frame = s.material(mat.pick(rng, metal=4, dark=2, paint=1))
    seat_m = s.material(mat.pick(rng, wood=2, paint=2, dark=2, fabric=1, light=1))
    w, d = rng.uniform(0.42, 0.5), rng.uniform(0.4, 0.48)
    h, t, r = rng.uniform(0.43, 0.47), rng.uniform(0.012, 0.03), rng.uniform(0.005, 0.0075)
    s.add(P.rounded_box((0, h - t / 2, 0), (d, t, w), min(t / 2.2, rng.uniform(0.003, 0.02))), seat_m)
    inset = rng.uniform(0.015, 0.03)
    xf, xb, zl = d / 2 - inset, -d / 2 + inset, w / 2 - inset
    splay_f, splay_b, splay_z = rng.uniform(0, 0.04), rng.uniform(0.01, 0.06), rng.uniform(0, 0.03)
    back_h, tilt = rng.uniform(0.35, 0.5), np.radians(rng.uniform(5, 16))
    y_seat = h - t
    for sz in (-1, 1):
        z, zf = sz * zl, sz * (zl + splay_z)
        s.add(P.cylinder((xf + splay_f, 0, zf), (xf, y_seat, z), r, 10), frame)
        s.add(P.tube(np.array([[xb - splay_b, 0, zf], [xb, y_seat, z], [xb - back_h * np.sin(tilt), y_seat + back_h, z]]), r, 10),
              frame)

    def post_x(y: float) -> float:
        return xb - (y - y_seat) * np.tan(tilt)

    band = rng.uniform(0.1, 0.25) if rng.random() < 0.6 else back_h - rng.uniform(0.06, 0.1)
    y1 = y_seat + back_h - rng.uniform(0.0, 0.03)
    depth = rng.uniform(0.02, 0.07)
    grid = _bent_band(y1 - band, y1, zl + r, depth, 3, 7)  # its ends on the posts, its middle behind them
    grid[..., 0] += post_x(grid[..., 1])
    s.add(P.sheet(grid, rng.uniform(0.008, 0.015)), seat_m if rng.random() < 0.6 else frame)
    if rng.random() < 0.6:  # seat rails under the seat
        for sz in (-1, 1):
            s.add(P.cylinder((xf, y_seat - r, sz * zl), (xb, y_seat - r, sz * zl), r, 8), frame)
    feet = np.array([[xf + splay_f, 0, zl + splay_z], [xb - splay_b, 0, zl + splay_z], [xb - splay_b, 0, -zl - splay_z],
                     [xf + splay_f, 0, -zl - splay_z]])
    heads = np.array([[xf, y_seat, zl], [xb, y_seat, zl], [xb, y_seat, -zl], [xf, y_seat, -zl]])
    if rng.random() < 0.5:  # side stretchers, maybe a front rung
        y = rng.uniform(0.1, 0.22)
        _rungs(s, feet, heads, y, r * 0.8, frame, [0, 2, 3] if rng.random() < 0.4 else [0, 2])
    if rng.random() < 0.2:  # thin arms: a rod from the back post forward and down onto the front leg
        arm_y = h + rng.uniform(0.18, 0.24)
        for sz in (-1, 1):
            z = sz * zl
            s.add(P.tube(np.array([[post_x(arm_y), arm_y, z], [xf + 0.01, arm_y, z], [xf, y_seat, z]]), r, 8), frame)
    return s


def _tube(rng) -> Shape:
    """Bent-tube sled or cantilever frames under a seat, with a back of any style."""
    s = Shape()
    frame, seat_m = _materials(rng, s, metal=4, dark=1, paint=1)
    w, d = rng.uniform(0.4, 0.52), rng.uniform(0.4, 0.5)
    h, t = rng.uniform(0.42, 0.48), rng.uniform(0.025, 0.08)
    _seat(s, rng, d, w, h, t, seat_m)
    inset = rng.uniform(0.02, 0.05)
    r = rng.uniform(0.008, 0.014)
    sled = rng.random() < 0.5
    for sz in (-1, 1):
        z = sz * (w / 2 - inset)
        if sled:
            path = [[-(d / 2 - inset), h - t, z], [-(d / 2 - inset) - 0.03, 0.0, z], [d / 2 - inset + 0.03, 0.0, z], [d / 2 - inset, h - t, z]]
        else:
            path = [[d / 2 - inset, h - t, z], [-(d / 2) + 0.05, h - t, z], [-(d / 2) + 0.02, 0.02, z], [d / 2, 0.0, z]]
        s.add(P.tube(np.array(path), r, 8), frame)
    _back(s, rng, choose(rng, {k: v for k, v in BACK_STYLES.items() if k != "ladder"}), d, w, h, frame,
          seat_m if rng.random() < 0.7 else frame)
    if rng.random() < 0.25:
        _arms(s, rng, d, w, h, t, frame, seat_m)
    return s


def _panels(rng) -> Shape:
    s = Shape()
    frame, seat_m = _materials(rng, s)
    w, d = rng.uniform(0.4, 0.56), rng.uniform(0.4, 0.56)
    h, t = rng.uniform(0.4, 0.5), rng.uniform(0.025, 0.08)
    _seat(s, rng, d, w, h, t, seat_m)
    pt = rng.uniform(0.02, 0.05)
    for sz in (-1, 1):
        s.add(P.box((0, (h - t) / 2 + 0.005, sz * (w / 2 - pt / 2)), (d, h - t + 0.01, pt)), frame)
    _back(s, rng, choose(rng, {"solid": 0.5, "tall": 0.2, "slats": 0.15, "curved": 0.15}), d, w, h, frame,
          seat_m if rng.random() < 0.7 else frame)
    return s


def _upholstered(rng) -> Shape:
    """Club armchairs (the sofa generator with one seat) or wing-back armchairs."""
    if rng.random() < 0.55:
        return sofa(rng, seats=1)
    s = Shape()
    cover = s.material(mat.pick(rng, fabric=5, dark=1, paint=1))
    cushion = cover if rng.random() < 0.7 else s.material(mat.pick(rng, fabric=3, light=1))
    w, d = rng.uniform(0.7, 0.86), rng.uniform(0.72, 0.88)
    seat_h, top = rng.uniform(0.4, 0.47), rng.uniform(0.95, 1.15)
    leg_h = rng.uniform(0.08, 0.16)
    base_top = seat_h - rng.uniform(0.08, 0.14)
    arm_w, arm_top = rng.uniform(0.09, 0.15), seat_h + rng.uniform(0.16, 0.24)
    bt, r = rng.uniform(0.12, 0.2), rng.uniform(0.02, 0.05)
    s.add(P.rounded_box((0, (leg_h + base_top) / 2, 0), (d, base_top - leg_h, w), r / 2), cover)
    s.add(P.rounded_box((bt / 2, (base_top + seat_h) / 2 + 0.01, 0), (d - bt, seat_h - base_top + 0.02, w - 2 * arm_w), r), cushion)
    tilt = P.rotation("z", rng.uniform(3, 12))
    s.add(P.place(P.rounded_box((0, (top - leg_h) / 2, 0), (bt, top - leg_h, w), r), (-d / 2 + bt / 2, leg_h, 0), tilt), cover)
    rolled = rng.random() < 0.5
    wd, wt, flare = rng.uniform(0.2, 0.32), rng.uniform(0.05, 0.09), rng.uniform(4, 14)
    for sz in (-1, 1):
        z = sz * (w / 2 - arm_w / 2)
        s.add(P.rounded_box((0, (leg_h + arm_top) / 2, z), (d, arm_top - leg_h, arm_w), r), cover)
        if rolled:
            s.add(P.cylinder((-d / 2 + 0.05, arm_top, z), (d / 2, arm_top, z), arm_w * 0.6, 20), cover)
        wing_lo, wing_hi = arm_top - 0.05, top - rng.uniform(0.03, 0.1)
        wing = P.rounded_box((wd / 2, (wing_lo + wing_hi) / 2, -sz * wt / 2), (wd, wing_hi - wing_lo, wt), min(0.04, wt / 2.2))
        s.add(P.place(wing, (-d / 2 + bt * 0.5, 0, sz * w / 2), P.rotation("y", -sz * flare)), cover)
    legs_m = s.material(mat.pick(rng, wood=3, dark=1, metal=1))
    corner_legs(s, rng, d / 2 - 0.06, w / 2 - 0.06, leg_h + 0.01, legs_m, thick=rng.uniform(0.03, 0.05))
    return s


_KIND_FUNCTIONS = {
    "four_legs": _four_legs, "armchair": _armchair, "office": _office, "bar_stool": lambda rng: _stool(rng, tall=True),
    "shell": _shell, "stacking": _stacking, "tube": _tube, "panels": _panels, "upholstered": _upholstered,
    "stool": lambda rng: _stool(rng, tall=False),
}
assert set(_KIND_FUNCTIONS) == set(CHAIR_KINDS)
