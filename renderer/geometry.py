"""Rectangles and points: the currency of the pure layout functions."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def x1(self) -> float:
        return self.x + self.w

    @property
    def y1(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def area(self) -> float:
        return max(0.0, self.w) * max(0.0, self.h)

    def inset(self, dx: float, dy: float | None = None) -> "Rect":
        dy = dx if dy is None else dy
        return Rect(self.x + dx, self.y + dy, self.w - 2 * dx, self.h - 2 * dy)

    def offset(self, dx: float, dy: float) -> "Rect":
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def intersect(self, other: "Rect") -> "Rect | None":
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.x1, other.x1), min(self.y1, other.y1)
        if x1 <= x0 or y1 <= y0:
            return None
        return Rect(x0, y0, x1 - x0, y1 - y0)

    def overlaps(self, other: "Rect") -> bool:
        return self.intersect(other) is not None

    def contains(self, other: "Rect", tol: float = 0.5) -> bool:
        return (other.x >= self.x - tol and other.y >= self.y - tol
                and other.x1 <= self.x1 + tol and other.y1 <= self.y1 + tol)

    def contains_point(self, px: float, py: float) -> bool:
        return self.x <= px <= self.x1 and self.y <= py <= self.y1

    def sub(self, fx: float, fy: float, fw: float, fh: float) -> "Rect":
        """A rectangle given in fractions (0..1) of this one."""
        return Rect(self.x + fx * self.w, self.y + fy * self.h, fw * self.w, fh * self.h)

    def box(self) -> tuple[int, int, int, int]:
        """Integer (x0, y0, x1, y1) for Pillow."""
        return round(self.x), round(self.y), round(self.x1), round(self.y1)
