import Training

/// The real trainer drives the workbench directly: `workbench.run(source: trainer, send: trainer.send)`.
extension Trainer: SnapshotSource {
    public func latest() -> TrainerSnapshot { snapshot() }
}
