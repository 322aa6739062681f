/// A firmware volume prints nothing and handles a platform fault its own way (a #VC handler
/// that asks to terminate, a dead loop, a triple fault), so the stop alone rarely says why the
/// firmware failed. Its failure text names the last fault the platform gave that vCPU before
/// it stopped: the access, its GPA (with the metadata section it lies in), where the
/// instruction was, and the platform's answer.
extension RunResult {
    /// "; before it, the platform's last fault: …", or "" when there was none or the image is
    /// not a firmware volume.
    func firmwareFaultNote(vcpu: Int) -> String {
        guard image.isFirmwareVolume else { return "" }
        let faults = events.compactMap { event -> String? in
            guard case .served(let at, _, let request, let answer) = event, at == vcpu else { return nil }
            switch request {
            case .unvalidatedAccess, .pendingAccess: return "\(request) got \(answer)"
            default: return nil
            }
        }
        return faults.last.map { "; before it, the platform's last fault: \($0)" } ?? ""
    }
}
