import Geometry

// Normalised coordinates of a W x H map (align_corners=True): xn = x / ((W-1)/2) - 1, so -1 and +1 are
// the centres of the first and last pixel. Training homographies act on these; previews use pixels.

public enum NormalizedCoordinates {
    /// The matrix taking pixel coordinates to normalised ones.
    public static func fromPixels(width: Int, height: Int) -> Homography {
        Homography([2 / Double(max(width - 1, 1)), 0, -1,
                    0, 2 / Double(max(height - 1, 1)), -1,
                    0, 0, 1])
    }

    /// The matrix taking normalised coordinates to pixels.
    public static func toPixels(width: Int, height: Int) -> Homography {
        Homography([Double(width - 1) / 2, 0, Double(width - 1) / 2,
                    0, Double(height - 1) / 2, Double(height - 1) / 2,
                    0, 0, 1])
    }

    /// A homography on normalised coordinates re-expressed on pixels (both frames W x H): P H N, h33 = 1.
    public static func pixelHomography(_ h: Homography, width: Int, height: Int) -> Homography {
        (toPixels(width: width, height: height) * h * fromPixels(width: width, height: height)).normalized()
    }
}
