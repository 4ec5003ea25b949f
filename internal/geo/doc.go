// Package geo holds WGS84 (CRS84) helpers: bounding boxes that may cross the
// antimeridian, and their conversion to exact geometries. No projected math.
package geo
