"""Assemble one character in one pose and expression: SVG in art units plus named points.

The rig is simple on purpose: a torso and a head drawn by macros, limbs built from the
pose's hand/foot targets with two-bone IK (so arm lengths never change between poses), and
hands, feet or grippers placed at the limb ends. Paint order follows each part's z.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from shapely import affinity

from . import shapes
from .assets import Character, character, parts
from .kinematics import Affine, Point, angle_of, bbox_of, capsule_path, two_bone_ik
from .paint import Painter


@dataclass(frozen=True)
class Drawing:
    body: str                       # SVG elements, art units
    defs: str
    glow: str                       # emissive shapes only, same coordinates, for the blurred glow layer
    anchors: dict[str, Point]       # art units
    head: tuple[float, float, float, float]   # (x, y, w, h), art units
    face: tuple[float, float, float, float]
    span: tuple[float, float]       # left and right edge of the ink and glow, art units


def compose(art: str, pose_name: str, expression: str) -> Drawing:
    ch = character(art)
    pose = ch.poses[pose_name]
    macros = parts(art)
    body_name = pose.body or pose_name
    painter = Painter(ch)
    layers: list[tuple[float, int, str]] = []
    points: dict[str, Point] = {}

    def add(z: float, svg: str) -> None:
        layers.append((z, len(layers), svg))

    if hasattr(macros, "back"):
        add(-10, painter.paint(str(macros.back(body_name))))
    add(0, painter.paint(str(macros.torso(body_name))))
    if hasattr(macros, "front"):
        add(10, painter.paint(str(macros.front(body_name))))

    head_tf = Affine.translate(ch.head.pivot[0] + pose.head.shift[0], ch.head.pivot[1] + pose.head.shift[1]) \
        @ Affine.rotate(pose.head.tilt) @ Affine.scale(ch.head.scale)
    add(ch.head.z, painter.paint(str(macros.head(expression, body_name)), head_tf))
    head_box = _box(head_tf, ch.head.box)
    face_box = _box(head_tf, ch.head.face)
    points["head.mouth"] = head_tf.apply(ch.head.mouth)
    points["head.eyes"] = head_tf.apply(ch.head.eyes)

    for name, limb in ch.limbs.items():
        lp = pose.limbs.get(name)
        if lp is None:
            raise RuntimeError(f"cast art {art}: pose '{pose_name}' does not place limb '{name}'")
        svg, limb_points = _limb(ch, macros, painter, name, lp)
        add(limb.z if lp.z is None else lp.z, svg)
        points.update(limb_points)

    anchors = {}
    for key, ref in {**ch.default_anchors, **pose.anchors}.items():
        if ref not in points:
            raise RuntimeError(f"cast art {art}: anchor '{key}' -> '{ref}' is not a known point "
                               f"(known: {', '.join(sorted(points))})")
        anchors[key] = points[ref]
    anchors.setdefault("eyes", points["head.eyes"])
    anchors.setdefault("mouth", points["head.mouth"])
    anchors["base"] = ch.base

    whole = (Affine.translate(0, pose.lift) @ Affine.translate(*ch.base) @ Affine.rotate(pose.lean)
             @ Affine.translate(-ch.base[0], -ch.base[1]))
    anchors = {k: (v if k == "base" else whole.apply(v)) for k, v in anchors.items()}
    head_box = _box(whole, head_box)
    face_box = _box(whole, face_box)
    union = affinity.affine_transform(shapely.union_all(painter.silhouette),
                                      [whole.a, whole.c, whole.b, whole.d, whole.e, whole.f])
    body = "".join(svg for _, _, svg in sorted(layers)) + _rim_light(ch, painter)
    x0, _, x1, _ = union.bounds
    margin = ch.lines.outline + 1.0
    if painter.emissive:
        glow = affinity.affine_transform(shapely.union_all(painter.emissive),
                                         [whole.a, whole.c, whole.b, whole.d, whole.e, whole.f])
        gx0, _, gx1, _ = glow.bounds
        x0, x1 = min(x0, gx0 - 3 * ch.light.glow_radius), max(x1, gx1 + 3 * ch.light.glow_radius)
    return Drawing(body=f'<g transform="{whole.svg()}">{body}</g>', defs="".join(painter.defs),
                   glow=f'<g transform="{whole.svg()}">{"".join(painter.glow)}</g>',
                   anchors=anchors, head=head_box, face=face_box, span=(x0 - margin, x1 + margin))


def _rim_light(ch: Character, painter: Painter) -> str:
    """The neon rim: the band along the silhouette's edge on the side the lab light comes from,
    just inside the ink contour (the silhouette minus itself shifted away from the light)."""
    fx, fy = ch.light.rim_from
    norm = math.hypot(fx, fy) or 1.0
    dx, dy = -fx / norm * ch.light.rim_width, -fy / norm * ch.light.rim_width
    union = shapely.union_all(painter.silhouette)
    d = shapes.path_data(union.difference(affinity.translate(union, dx, dy)))
    return f'<path d="{d}" fill="{ch.light.rim_color}" fill-rule="evenodd"/>' if d else ""


def _limb(ch: Character, macros, painter: Painter, name: str, lp) -> tuple[str, dict[str, Point]]:
    limb = ch.limbs[name]
    l1, l2 = limb.lengths
    r0, r1, r2 = limb.radii
    joint, end = two_bone_ik(limb.root, lp.to, l1, l2, lp.bend)
    mat = limb.material
    sleeve = (f'<g class="merge"><path class="{mat}" d="{capsule_path(limb.root, r0, joint, r1)}"/>'
              f'<path class="{mat}" d="{capsule_path(joint, r1, end, r2)}"/></g>')
    out = []
    fore = angle_of(joint, end)
    end_angle = lp.angle if lp.absolute else fore + lp.angle
    end_tf = Affine.translate(*end) @ Affine.rotate(end_angle) @ Affine.scale(1, -1 if lp.flip else 1)
    end_macro = getattr(macros, limb.kind)
    end_svg = painter.paint(str(end_macro(lp.end, limb.side)), end_tf)
    hand_under = limb.kind == "hand"   # a sleeve cuff covers the wrist; grippers and feet sit on top
    if hand_under:
        out.append(end_svg)
    out.append(painter.paint(sleeve))
    if limb.root_cap:
        out.append(painter.paint(str(getattr(macros, limb.root_cap)(limb.side)), Affine.translate(*limb.root)))
    if limb.joint:
        out.append(painter.paint(str(getattr(macros, limb.joint)(limb.side)),
                                 Affine.translate(*joint) @ Affine.rotate(fore)))
    if limb.cuff:
        out.append(painter.paint(str(getattr(macros, limb.cuff)(limb.side)),
                                 Affine.translate(*end) @ Affine.rotate(fore)))
    if not hand_under:
        out.append(end_svg)
    pts: dict[str, Point] = {f"{name}.root": limb.root, f"{name}.joint": joint, f"{name}.end": end}
    shape = ch.ends.get(lp.end)
    for pname, p in (shape.points.items() if shape else ()):
        pts[f"{name}.{pname}"] = end_tf.apply(p)
    return "".join(out), pts


def _box(tf: Affine, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x, y, w, h = box
    return bbox_of([tf.apply(p) for p in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))])
