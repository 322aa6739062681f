import Foundation
import KVM
import Synchronization

/// Kicks a vCPU out of KVM_RUN once a deadline passes, unless cancelled first. Cancelling
/// drops the kicker at once, so the timer never keeps a vCPU's kvm_run mapping (and with it
/// the VM) alive past its run: a dispatch work item would hold whatever it captured until
/// its deadline even when cancelled.
final class KickTimer: Sendable {
    private let kicker: Mutex<VCPUKicker?>

    init(_ kicker: VCPUKicker, after seconds: Double) {
        self.kicker = Mutex(kicker)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
            self?.fire()
        }
    }

    private func fire() {
        kicker.withLock { $0 }?.kick()
    }

    /// After this returns the timer holds no KVM object.
    func cancel() {
        kicker.withLock { $0 = nil }
    }
}
