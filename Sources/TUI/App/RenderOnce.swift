import Foundation
import Training

/// The screen for `snapshot` as plain text (no colours; images as the ASCII grey ramp): `kp2d-tui snapshot`,
/// `--once` and the README capture.
public func renderOnce(_ snapshot: TrainerSnapshot, width: Int, height: Int, options: WorkbenchOptions = WorkbenchOptions(),
                       hpatches: HPatchesBrowserSource? = nil, view: ViewID = .training,
                       validation: ValidationSource? = nil, probe: ProbeSource? = nil) -> String {
    var opts = options
    opts.colorMode = ColorMode.none
    let wb = Workbench(options: opts, hpatches: hpatches)
    wb.validation = validation
    wb.probe = probe
    if view == .hpatches { wb.handle(.char("2"), snapshot: snapshot, send: { _ in }) }
    return wb.render(snapshot: snapshot, width: width, height: height).text
}
