#!/usr/bin/env python3
"""Writes data/geo/countries.txt, the country shapes the portal's home map draws, from the
world-atlas TopoJSON of Natural Earth's 1:50m countries (see SOURCES.md in this folder).

What it does, in order:
  1. decodes the TopoJSON arcs (quantized, delta-encoded) into longitude/latitude;
  2. simplifies each shared arc once with Douglas-Peucker, keeping its two ends, so that two
     neighbours still meet exactly along the border they share;
  3. keys each shape by ISO 3166-1 alpha-2, through the numeric code world-atlas uses as `id`
     and the numeric column of data/reference/countries.csv; Kosovo, which Natural Earth gives
     no ISO code, becomes XK; other shapes without a code (disputed or unassigned areas) are
     written with the code `--` and drawn neutral;
  4. writes one `country CODE Natural Earth name` line per shape, then one `ring` line per
     ring, as `longitude,latitude` pairs rounded to 0.01 degree (about a kilometre, far below
     a pixel of the map). Antarctica is left out: no programme works there, and it would take
     a fifth of the map's height. A ring that crosses the antimeridian is cut in two there;
  5. adds a `country` line with a single `point LON,LAT` line for each place of POINTS that
     has no shape, which the map draws as a marker.

Standard library only. Run from the repository root:

    python3 data/geo/make_countries.py /path/to/countries-50m.json > data/geo/countries.txt
"""

import csv
import json
import math
import sys

# Degrees: a point closer than this to the simplified line is dropped. A pixel of the
# 1000-unit-wide map is about 0.36 degree of longitude at the equator.
TOLERANCE = 0.12
LEFT_OUT = {"AQ"}
BY_NAME = {"Kosovo": "XK"}
# Countries and territories Natural Earth 1:50m has no shape of its own for (too small, or
# part of France's shape), placed by hand at their main island or town so that the map can
# still show and link them, as a marker. Longitude, latitude in degrees.
POINTS = {
    "TV": ("Tuvalu", 179.20, -8.52),
    "TK": ("Tokelau", -171.85, -9.20),
    "GF": ("French Guiana", -53.10, 3.95),
    "GP": ("Guadeloupe", -61.55, 16.25),
    "MQ": ("Martinique", -61.02, 14.64),
    "YT": ("Mayotte", 45.15, -12.83),
    "RE": ("Reunion", 55.53, -21.13),
    "GI": ("Gibraltar", -5.35, 36.14),
    "CX": ("Christmas Island", 105.69, -10.45),
    "CC": ("Cocos (Keeling) Islands", 96.87, -12.17),
    "BQ": ("Bonaire, Sint Eustatius and Saba", -68.27, 12.18),
}


def numeric_to_alpha2(path):
    """The numeric -> alpha-2 table of the bundled country list."""
    table = {}
    with open(path, encoding="utf-8") as file:
        rows = csv.reader(line for line in file if not line.startswith("#"))
        header = next(rows)
        alpha2, numeric = header.index("alpha2"), header.index("numeric")
        for row in rows:
            table[row[numeric]] = row[alpha2]
    return table


def decode_arcs(topology):
    scale_x, scale_y = topology["transform"]["scale"]
    translate_x, translate_y = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for delta_x, delta_y in arc:
            x += delta_x
            y += delta_y
            points.append((x * scale_x + translate_x, y * scale_y + translate_y))
        arcs.append(points)
    return arcs


def distance_to_segment(point, start, end):
    (px, py), (ax, ay), (bx, by) = point, start, end
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    if length == 0:
        return math.hypot(px - ax, py - ay)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def douglas_peucker(points, tolerance):
    """Keeps the ends and every point farther than `tolerance` from the line between kept
    neighbours. Iterative, so long coastlines do not hit Python's recursion limit."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        farthest, index = 0.0, None
        for i in range(first + 1, last):
            distance = distance_to_segment(points[i], points[first], points[last])
            if distance > farthest:
                farthest, index = distance, i
        if index is not None and farthest > tolerance:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    return [point for point, kept in zip(points, keep) if kept]


def simplify_arc(points, tolerance):
    # A closed arc (an island) has no line between its ends; split it at the point farthest
    # from its start so that both halves have one.
    if len(points) > 3 and points[0] == points[-1]:
        split = max(range(len(points)), key=lambda i: math.dist(points[0], points[i]))
        return (douglas_peucker(points[: split + 1], tolerance)[:-1]
                + douglas_peucker(points[split:], tolerance))
    return douglas_peucker(points, tolerance)


def crosses_antimeridian(points):
    return any(abs(b[0] - a[0]) > 180 for a, b in zip(points, points[1:]))


def clip(points, inside, cut):
    """Sutherland-Hodgman against one half-plane: the part of a closed ring that is inside."""
    result = []
    for index, current in enumerate(points):
        previous = points[index - 1]
        if inside(current):
            if not inside(previous):
                result.append(cut(previous, current))
            result.append(current)
        elif inside(previous):
            result.append(cut(previous, current))
    return result


def at_longitude(longitude):
    def cut(a, b):
        t = (longitude - a[0]) / (b[0] - a[0])
        return (longitude, a[1] + t * (b[1] - a[1]))
    return cut


def split_at_antimeridian(points):
    """world-atlas leaves rings that cross 180 degrees whole (d3 cuts them while drawing):
    Russia's Chukotka, Fiji, the Aleutians. Such a ring is unwrapped into continuous
    longitudes, then clipped into one piece per side of the antimeridian."""
    if not crosses_antimeridian(points):
        return [points]
    unwrapped = [points[0]]
    for longitude, latitude in points[1:]:
        previous = unwrapped[-1][0]
        while longitude - previous > 180:
            longitude -= 360
        while longitude - previous < -180:
            longitude += 360
        unwrapped.append((longitude, latitude))
    if unwrapped[0] == unwrapped[-1]:
        unwrapped.pop()
    pieces = []
    lowest = min(longitude for longitude, _ in unwrapped)
    highest = max(longitude for longitude, _ in unwrapped)
    for turn in range(math.floor((lowest + 180) / 360), math.floor((highest + 180) / 360) + 1):
        left, right = -180 + 360 * turn, 180 + 360 * turn
        piece = clip(unwrapped, lambda p: p[0] >= left, at_longitude(left))
        piece = clip(piece, lambda p: p[0] <= right, at_longitude(right))
        if len(piece) >= 3:
            piece = [(longitude - 360 * turn, latitude) for longitude, latitude in piece]
            pieces.append(piece + [piece[0]])
    return pieces


def ring_points(ring, arcs):
    points = []
    for index in ring:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        # Consecutive arcs share their meeting point; write it once.
        points.extend(arc[1:] if points else arc)
    return points


def main():
    topology = json.load(open(sys.argv[1], encoding="utf-8"))
    codes = numeric_to_alpha2("data/reference/countries.csv")
    arcs = [simplify_arc(arc, TOLERANCE) for arc in decode_arcs(topology)]
    out = sys.stdout
    out.write("# Country shapes for the home map, written by data/geo/make_countries.py from world-atlas\n")
    out.write("# 2.0.2 countries-50m.json (Natural Earth 1:50m, public domain; see SOURCES.md here).\n")
    out.write("# `country CODE NAME` starts a shape (CODE is ISO 3166-1 alpha-2, or -- for an area\n")
    out.write("# without one, drawn neutral); each `ring LON,LAT ...` line that follows is one ring of\n")
    out.write(f"# it, in degrees. Arcs simplified with Douglas-Peucker at {TOLERANCE} degree. A `point LON,LAT`\n")
    out.write("# line instead places a country Natural Earth has no shape for; it is drawn as a marker.\n")
    unknown = []
    written_codes = set()
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        identifier = geometry.get("id")
        code = codes.get(identifier) if identifier else BY_NAME.get(name)
        if identifier and not code:
            unknown.append((identifier, name))
        code = code or "--"
        if code in LEFT_OUT:
            continue
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        out.write(f"country {code} {name}\n")
        written_codes.add(code)
        for polygon in polygons:
            for ring in polygon:
                for points in split_at_antimeridian(ring_points(ring, arcs)):
                    text = " ".join(f"{lon:.2f},{lat:.2f}" for lon, lat in points)
                    out.write(f"ring {text}\n")
    written = {geometry_code for geometry_code in written_codes}
    for code, (name, lon, lat) in POINTS.items():
        if code not in written:
            out.write(f"country {code} {name}\npoint {lon:.2f},{lat:.2f}\n")
    for identifier, name in unknown:
        print(f"no alpha-2 code for numeric {identifier} ({name}); written as --", file=sys.stderr)


if __name__ == "__main__":
    main()
