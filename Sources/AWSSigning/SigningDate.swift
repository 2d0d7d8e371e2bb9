import Foundation

/// The two renderings of a signing time that SigV4 needs: `20150830T123600Z` and `20150830`.
struct SigningDate: Sendable, Hashable {
    let amzDate: String
    var dateStamp: Substring { amzDate.prefix(8) }

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        amzDate = pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(Int64(secondOfDay / 3600), 2)
            + pad(Int64(secondOfDay % 3600 / 60), 2) + pad(Int64(secondOfDay % 60), 2) + "Z"
    }

    /// Howard Hinnant's days-to-civil conversion: no calendar, no locale, no allocation.
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
