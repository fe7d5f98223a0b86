import Foundation
import RecorderCore

/// An admin-defined QA form: questions, each worth some points. A call's evaluation answers them; its
/// score is the points earned out of the points of the questions answered (not "n/a"), in percent.
public struct EvaluationForm: Codable, Sendable, Equatable {
    public var name: String
    public var title: String
    public var questions: [Question]
    public var retired: Bool

    public struct Question: Codable, Sendable, Equatable {
        public var id: String
        public var text: String
        public var kind: Kind
        /// What the question is worth when fully met (1–100).
        public var points: Int
        /// `scale` questions: answered 0…max.
        public var max: Int?
        /// Whether it may be answered "n/a" (left out of the score).
        public var optional: Bool?
    }

    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// yes earns the points, no earns none.
        case yesNo = "yes_no"
        /// 0…max earns that share of the points.
        case scale
        public init(from decoder: any Decoder) throws { self = try StrictJSON.oneOf(decoder) }
    }

    public init(name: String, title: String, questions: [Question], retired: Bool = false) {
        self.name = name
        self.title = title
        self.questions = questions
        self.retired = retired
    }

    enum CodingKeys: String, CodingKey {
        case name, title, questions, retired
    }

    /// `retired` may be left out (a form as an admin writes it).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        title = try container.decode(String.self, forKey: .title)
        questions = try container.decode([Question].self, forKey: .questions)
        retired = try container.decodeIfPresent(Bool.self, forKey: .retired) ?? false
    }

    /// One answer as given: `"yes"`, `"no"`, `"n/a"` or a number for a scale.
    public enum Answer: Codable, Sendable, Equatable {
        case yes, no, notApplicable
        case value(Int)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                self = .value(number)
                return
            }
            switch try container.decode(String.self) {
            case "yes": self = .yes
            case "no": self = .no
            case "n/a": self = .notApplicable
            case let other:
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "an answer is yes, no, n/a or a number, found \"\(OutsideText.bounded(other, limit: 20))\"")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .yes: try container.encode("yes")
            case .no: try container.encode("no")
            case .notApplicable: try container.encode("n/a")
            case .value(let number): try container.encode(number)
            }
        }
    }

    /// A form an admin may save: a name for URLs, 1–50 questions with unique ids, sensible points.
    func validated() throws -> EvaluationForm {
        try ReviewNames.check(name, what: "form name")
        let title = OutsideText.bounded(title.trimmingCharacters(in: .whitespacesAndNewlines), limit: 120)
        guard !title.isEmpty else { throw CollectorError(.invalid, "the form needs a title") }
        guard (1...50).contains(questions.count) else {
            throw CollectorError(.invalid, "a form has 1 to 50 questions, found \(questions.count)")
        }
        var seen = Set<String>()
        var checked: [Question] = []
        for question in questions {
            try ReviewNames.check(question.id, what: "question id")
            guard seen.insert(question.id).inserted else {
                throw CollectorError(.invalid, "question id \(question.id) is used twice")
            }
            let text = OutsideText.bounded(question.text.trimmingCharacters(in: .whitespacesAndNewlines), limit: 300)
            guard !text.isEmpty else { throw CollectorError(.invalid, "question \(question.id) has no text") }
            guard (1...100).contains(question.points) else {
                throw CollectorError(.invalid, "question \(question.id) is worth 1 to 100 points, found \(question.points)")
            }
            var copy = question
            copy.text = text
            switch question.kind {
            case .scale:
                guard let max = question.max, (1...10).contains(max) else {
                    throw CollectorError(.invalid, "scale question \(question.id) needs max from 1 to 10")
                }
            case .yesNo:
                guard question.max == nil else {
                    throw CollectorError(.invalid, "yes_no question \(question.id) takes no max")
                }
            }
            checked.append(copy)
        }
        return EvaluationForm(name: name, title: title, questions: checked, retired: retired)
    }

    /// The score (0–100, rounded) of a complete set of answers; every question answered, "n/a" only
    /// where the form allows it, and nothing the form does not ask.
    public func score(_ answers: [String: Answer]) throws -> Int {
        if let unknown = answers.keys.sorted().first(where: { id in !questions.contains { $0.id == id } }) {
            throw CollectorError(.invalid, "form \(name) has no question \(OutsideText.bounded(unknown, limit: 64))")
        }
        var earned = 0.0
        var possible = 0
        for question in questions {
            guard let answer = answers[question.id] else {
                throw CollectorError(.invalid, "question \(question.id) (\(question.text)) is not answered")
            }
            switch (question.kind, answer) {
            case (_, .notApplicable):
                guard question.optional == true else {
                    throw CollectorError(.invalid, "question \(question.id) must be answered; it cannot be n/a")
                }
                continue
            case (.yesNo, .yes): earned += Double(question.points)
            case (.yesNo, .no): break
            case (.scale, .value(let value)):
                let max = question.max ?? 1
                guard (0...max).contains(value) else {
                    throw CollectorError(.invalid, "question \(question.id) is answered 0 to \(max), found \(value)")
                }
                earned += Double(question.points) * Double(value) / Double(max)
            default:
                throw CollectorError(
                    .invalid,
                    question.kind == .yesNo
                        ? "question \(question.id) is answered yes or no"
                        : "question \(question.id) is answered with a number from 0 to \(question.max ?? 1)")
            }
            possible += question.points
        }
        guard possible > 0 else { throw CollectorError(.invalid, "every question is n/a: nothing to score") }
        return Int((earned * 100 / Double(possible)).rounded())
    }
}

/// Names of categories, forms, questions and fields: what URLs and search terms carry safely.
enum ReviewNames {
    static func check(_ name: String, what: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
        }
        guard (1...48).contains(name.utf8.count), allowed, name.utf8.first.map({ (0x61...0x7A).contains($0) }) == true else {
            throw CollectorError(
                .invalid,
                "a \(what) is 1 to 48 lower-case letters, digits, - or _, starting with a letter; found \"\(OutsideText.bounded(name, limit: 60))\"")
        }
    }
}
