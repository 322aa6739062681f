import Foundation

/// Writes one JSON object to a file handle a member at a time, and each array an element at
/// a time, so a report is never held whole in memory: the largest piece buffered is one
/// element. Members must be written in the order wanted in the output (we write them sorted,
/// as the other commands' `--json` prints them).
struct JSONStream {
    private let handle: FileHandle
    private let encoder: JSONEncoder
    private var first = true

    init(_ handle: FileHandle) {
        self.handle = handle
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        handle.write(Data("{".utf8))
    }

    mutating func member<T: Encodable>(_ key: String, _ value: T) {
        start(key)
        write(value)
    }

    mutating func array<S: Sequence>(_ key: String, _ elements: S) where S.Element: Encodable {
        start(key)
        handle.write(Data("[".utf8))
        var firstElement = true
        for element in elements {
            handle.write(Data((firstElement ? "\n    " : ",\n    ").utf8))
            write(element)
            firstElement = false
        }
        handle.write(Data((firstElement ? "]" : "\n  ]").utf8))
    }

    func close() { handle.write(Data("\n}\n".utf8)) }

    private mutating func start(_ key: String) {
        handle.write(Data(((first ? "\n  " : ",\n  ") + "\(encoded(key)): ").utf8))
        first = false
    }

    private func write<T: Encodable>(_ value: T) {
        // Encoding a value of our own report types cannot fail (no floats that are NaN: the
        // run's figures are finite); `null` keeps the document valid if one ever did.
        handle.write((try? encoder.encode(value)) ?? Data("null".utf8))
    }

    private func encoded(_ key: String) -> String {
        String(decoding: (try? encoder.encode(key)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
