import Foundation
import TensorEngine

/// Runs a fixture file through the handler for its kind.
public enum FixtureRunner {
    public typealias Handler = (Fixture, FixtureReport) throws -> Void

    /// One handler per fixture kind. Each family lives in its own file (OpFixtures.swift, ...).
    public static func handler(for kind: String) -> Handler? {
        switch kind {
        case "kp2d.train_step": return TrainStepFixture.run
        default: return nil
        }
    }

    /// Load and check one file. Never throws: problems become failed reports.
    public static func run(path: String) -> (report: FixtureReport?, error: String?) {
        let fixture: Fixture
        do { fixture = try Fixture.load(path) } catch { return (nil, "\(error)") }
        let report = FixtureReport(fixture: fixture)
        guard let h = handler(for: fixture.kind) else {
            report.errors.append("\(FixtureError.unknownKind(path: path, kind: fixture.kind))")
            return (report, nil)
        }
        do { try h(fixture, report) } catch { report.errors.append("\(error)") }
        if report.results.isEmpty && report.errors.isEmpty { report.errors.append("handler compared no tensors") }
        return (report, nil)
    }
}
