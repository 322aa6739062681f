/// One vCPU's milestones in a firmware-volume run: each is recorded once, when first seen,
/// and the run's `--until` milestone asks the loop to end the vCPU there (a pass). The
/// devices see the accesses (raw or forwarded by a protocol, one dispatch), the loop the
/// served requests; neither has to know the other.
final class FirmwareProgress {
    let until: FirmwareMilestone?
    private(set) var reached: [FirmwareMilestone] = []
    /// Set when `until` is reached: the loop ends the vCPU after the current exit.
    private(set) var stopAt: FirmwareMilestone?

    init(until: FirmwareMilestone?) { self.until = until }

    /// Records `milestone` the first time; earlier ones not seen are not implied (a
    /// firmware that skipped one shows it).
    func reach(_ milestone: FirmwareMilestone, vcpu: Int, recorder: EventRecorder) {
        guard !reached.contains(milestone) else { return }
        reached.append(milestone)
        recorder.keep(.milestone(vcpu: vcpu, milestone))
        if milestone == until { stopAt = milestone }
    }

    /// A port access, raw or forwarded.
    func observe(port: UInt16, isWrite: Bool, vcpu: Int, recorder: EventRecorder) {
        if let milestone = FirmwareMilestone.marked(byPort: port, isWrite: isWrite) { reach(milestone, vcpu: vcpu, recorder: recorder) }
    }

    /// What serving one exit recorded: the GHCB registration.
    func observe(_ events: [RunEvent], vcpu: Int, recorder: EventRecorder) {
        for case .served(_, .sevSNP, .registerGHCB, _) in events { reach(.ghcbRegistered, vcpu: vcpu, recorder: recorder) }
    }
}
