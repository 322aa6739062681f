import KVM
import Payload

/// Whether a default VM really takes a guest_memfd memslot: capabilities alone do not say
/// (Linux 6.8 reports KVM_CAP_GUEST_MEMFD on /dev/kvm, yet refuses KVM_MEM_GUEST_MEMFD on a
/// default VM: docs/host-support.md), so the probe makes one, exactly as `RAMBacking` will.
enum GuestMemfdTrial {
    /// Nil when the memslot was made; else the call that failed and its errno.
    static func run(system: KVMSystem) -> String? {
        do {
            let vm = try system.createVM(type: .default)
            let backing = RAMBacking(kind: .guestMemfd, memslotCall: .region2, reason: "probe")
            _ = try backing.slot(vm: vm, slot: 0, range: GPARange(start: 0, end: 2 << 20), name: "probe")
            return nil
        } catch {
            return "a default VM refused a guest_memfd memslot: \(error)"
        }
    }
}
