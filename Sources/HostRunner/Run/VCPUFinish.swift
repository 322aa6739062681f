/// How a vCPU's run ends: the guest reported an exit code, or something stopped it.
enum VCPUFinish: Equatable {
    case exited(UInt32)
    case stopped(VCPUStop)
}

/// The last exception the runner injected into a vCPU (vector, and why, with the GPA), so the
/// guest's own report of it can say what the hardware would have told it.
struct InjectedException: Equatable {
    let vector: UInt64
    let cause: String
}
