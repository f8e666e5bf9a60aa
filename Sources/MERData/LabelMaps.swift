/// Emotion → class maps for the standard tasks. Emotions are compared after trimming,
/// lower-casing and collapsing inner spaces; common spellings are folded (`happy` →
/// `happiness`, `other`/`others`, `sad` → `sadness`, `angry` → `anger`, …).
public struct LabelMap {
    public let classNames: [String]
    /// Normalised emotion → class index.
    public let classOf: [String: Int]
    /// Known emotions the task leaves out on purpose (no warning).
    public let excluded: Set<String>

    public func label(forEmotion raw: String) -> LabelLookup {
        let e = LabelMap.normaliseEmotion(raw)
        if let c = classOf[e] { return .label(c) }
        if excluded.contains(e) { return .excluded }
        return .unknown(e)
    }

    public enum LabelLookup: Equatable { case label(Int), excluded, unknown(String) }

    static func normaliseEmotion(_ s: String) -> String {
        let e = s.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\u{A0}" }).joined(separator: " ")
        switch e {
        case "happy", "happiness", "happyness": return "happiness"
        case "other", "others": return "other"
        case "sad", "sadness": return "sadness"
        case "surprise", "surprised": return "surprise"
        case "disgust", "disgusted": return "disgust"
        case "anger", "angry": return "anger"
        case "fear", "fearful", "afraid": return "fear"
        case "repression", "repressed": return "repression"
        case "contempt": return "contempt"
        default: return e
        }
    }

    /// MEGC 2019 composite: negative = repression, anger, contempt, disgust, fear, sadness;
    /// positive = happiness; surprise = surprise; "other(s)" excluded.
    public static let megc2019 = LabelMap(
        classNames: ["negative", "positive", "surprise"],
        classOf: ["repression": 0, "anger": 0, "contempt": 0, "disgust": 0, "fear": 0, "sadness": 0,
                  "happiness": 1, "surprise": 2],
        excluded: ["other"])

    /// CASME II 5-class: happiness, disgust, repression, surprise, others (fear, sadness excluded).
    public static let casme2FiveClass = LabelMap(
        classNames: ["happiness", "disgust", "repression", "surprise", "others"],
        classOf: ["happiness": 0, "disgust": 1, "repression": 2, "surprise": 3, "other": 4],
        excluded: ["fear", "sadness"])

    /// SAMM 5-class as commonly used: happiness, anger, contempt, surprise, other
    /// (disgust, fear, sadness excluded).
    public static let sammFiveClass = LabelMap(
        classNames: ["happiness", "anger", "contempt", "surprise", "other"],
        classOf: ["happiness": 0, "anger": 1, "contempt": 2, "surprise": 3, "other": 4],
        excluded: ["disgust", "fear", "sadness"])

    public static func casme2(classes: Int) throws -> LabelMap {
        switch classes {
        case 5: return casme2FiveClass
        case 3: return megc2019
        default: throw DataError("casme2: classes must be 5 or 3 (MEGC 2019 composite), got \(classes)")
        }
    }

    public static func samm(classes: Int) throws -> LabelMap {
        switch classes {
        case 5: return sammFiveClass
        case 3: return megc2019
        default: throw DataError("samm: classes must be 5 or 3 (MEGC 2019 composite), got \(classes)")
        }
    }
}
