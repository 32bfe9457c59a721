package report

import (
	"fmt"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/corroborate"
	"github.com/vigil-hr/vigil/vocab"
)

// Languages the report is written in.
var Languages = []string{"en", "ru"}

// words holds the report's fixed text per language. Every key is in both
// (TestWordsComplete).
var words = map[string]map[string]string{
	"en": {
		"title":                     "Incident report",
		"org.none":                  "Documentation by a vigil instance",
		"generated":                 "Generated (UTC day)",
		"records":                   "Records and log leaves",
		"records.text":              "Every record this report names, in log order. Name the record IDs (or leaf indexes) when asking for evidence bundles.",
		"kind":                      "Kind",
		"incident":                  "Incident",
		"period":                    "Period",
		"place":                     "Place",
		"key":                       "Key",
		"record":                    "Record ID",
		"leaf":                      "Log leaf",
		"restricted":                "This incident is restricted to named staff accounts. Handle this report accordingly.",
		"log":                       "Evidence log",
		"origin":                    "Log origin",
		"size":                      "Checkpoint size",
		"root":                      "Root hash",
		"signed":                    "Signed checkpoint",
		"summary":                   "Summary",
		"summary.text":              "%d acts documented. Victims: confirmed at least %d, reported up to %d.",
		"acts":                      "Acts",
		"act":                       "Act",
		"type":                      "Type",
		"victims":                   "Victims",
		"status":                    "Status",
		"flags":                     "Flags",
		"explanations":              "Acts in detail",
		"description":               "Description",
		"persons":                   "Identified victims (pseudonyms)",
		"perpetrators":              "Perpetrators",
		"explanation":               "Why this status",
		"claims":                    "Claims",
		"claim":                     "Claim",
		"source":                    "Source",
		"stance":                    "Stance",
		"grade":                     "Grade",
		"date":                      "Date",
		"evidence":                  "Evidence",
		"evidence.col":              "Evidence",
		"kind.item":                 "Evidence item",
		"none":                      "none",
		"no.claims":                 "No claims recorded.",
		"figures":                   "Figures",
		"figures.text":              "Confirmed at least: the victims of corroborated and confirmed acts, each identified person once. Reported up to: the victims of every act with an affirming claim. The formula is in vigil's docs/corroboration.md; anyone holding the records can recompute it.",
		"by.type":                   "By act type",
		"by.month":                  "By month (the month each act starts)",
		"group":                     "Group",
		"confirmed":                 "Confirmed at least",
		"reported":                  "Reported up to",
		"unknown":                   "unknown",
		"total":                     "Whole incident",
		"sources":                   "Sources by grade",
		"sources.text":              "Reliability of each source on the Admiralty scale (A completely reliable to F cannot be judged). Sources that relay the same informant share an origin and count once. Persons are named by pseudonym only.",
		"name":                      "Name",
		"origin.src":                "Origin",
		"party":                     "Speaks for",
		"n.claims":                  "Claims",
		"own":                       "its own",
		"items":                     "Evidence items",
		"items.text":                "Each item is named by its record ID and log leaf; its content, name and size are only in its evidence bundle.",
		"media":                     "Media type",
		"supports":                  "Linked to claims",
		"no.items":                  "No evidence item is linked to this incident's claims.",
		"verify":                    "How to verify this report",
		"verify.1":                  "Every record above is a leaf of the organisation's evidence log, a Merkle tree whose state is the signed checkpoint below. Each leaf is a hiding commitment: it reveals nothing until its bundle is opened.",
		"verify.2":                  "Ask the organisation for evidence bundles of the records you want to check, naming their record IDs or leaf indexes. A bundle holds each record's statement, salt, content (if given), an inclusion proof and the checkpoint.",
		"verify.3":                  "Check a bundle offline with the command below (VKEY is the log's public key, log_vkey in the organisation's /.well-known/vigil.json). The bundle's README says how to check it by hand with independent tools (sha256sum, a C2SP signed-note verifier, an RFC 6962 inclusion proof).",
		"verify.4":                  "Check that the bundle's checkpoint is this one, or a later one consistent with it (the log's /log/ tiles, C2SP tlog-tiles, let anyone prove consistency). Witnesses' cosignatures, where present, show that others saw the same log.",
		"page":                      "Page %d of %d",
		"replaced":                  "Characters the report's fonts cannot show are printed as �.",
		"status.legend":             "Statuses: unverified (no affirming claim), reported (one origin affirms), corroborated (two or more independent origins), confirmed (corroborated, with evidence or a source graded A or B with credibility 1 or 2). Flags mark denials and never lower the status.",
		"flag.denied_by_implicated": "denied by implicated",
		"flag.disputed":             "disputed",
		"status.unverified":         "unverified",
		"status.reported":           "reported",
		"status.corroborated":       "corroborated",
		"status.confirmed":          "confirmed",
		"stance.affirms":            "affirms",
		"stance.partially_affirms":  "partially affirms",
		"stance.denies":             "denies",
		"src.victim":                "victim",
		"src.witness":               "witness",
		"src.ngo":                   "NGO",
		"src.media":                 "media",
		"src.official":              "official",
		"src.social_media":          "social media",
		"src.document":              "document",
		"src.other":                 "other",
		"rel.A":                     "A — completely reliable",
		"rel.B":                     "B — usually reliable",
		"rel.C":                     "C — fairly reliable",
		"rel.D":                     "D — not usually reliable",
		"rel.E":                     "E — unreliable",
		"rel.F":                     "F — reliability cannot be judged",
		"chart.legend.c":            "confirmed at least",
		"chart.legend.r":            "reported up to",
		"chart.numbers":             "at least / up to",
		"people":                    "people",
	},
	"ru": {
		"title":                     "Отчёт об инциденте",
		"org.none":                  "Документация экземпляра vigil",
		"generated":                 "Составлен (день по UTC)",
		"records":                   "Записи и листы журнала",
		"records.text":              "Все записи, названные в отчёте, в порядке журнала. Запрашивая пакеты доказательств, укажите ID записей (или номера листов).",
		"kind":                      "Вид записи",
		"incident":                  "Инцидент",
		"period":                    "Период",
		"place":                     "Место",
		"key":                       "Ключ",
		"record":                    "ID записи",
		"leaf":                      "Лист журнала",
		"restricted":                "Доступ к этому инциденту ограничен поимённо названными учётными записями сотрудников. Обращайтесь с отчётом соответственно.",
		"log":                       "Журнал доказательств",
		"origin":                    "Происхождение журнала",
		"size":                      "Размер контрольной точки",
		"root":                      "Корневой хеш",
		"signed":                    "Подписанная контрольная точка",
		"summary":                   "Кратко",
		"summary.text":              "Задокументировано действий: %d. Пострадавшие: подтверждено не менее %d, сообщается о не более чем %d.",
		"acts":                      "Действия",
		"act":                       "Действие",
		"type":                      "Вид",
		"victims":                   "Пострадавшие",
		"status":                    "Статус",
		"flags":                     "Отметки",
		"explanations":              "Действия подробно",
		"description":               "Описание",
		"persons":                   "Установленные пострадавшие (псевдонимы)",
		"perpetrators":              "Исполнители",
		"explanation":               "Почему такой статус",
		"claims":                    "Утверждения",
		"claim":                     "Утверждение",
		"source":                    "Источник",
		"stance":                    "Позиция",
		"grade":                     "Оценка",
		"date":                      "Дата",
		"evidence":                  "Доказательства",
		"evidence.col":              "Материалы",
		"kind.item":                 "Доказательство",
		"none":                      "нет",
		"no.claims":                 "Утверждений нет.",
		"figures":                   "Цифры",
		"figures.text":              "Подтверждено не менее: пострадавшие от подтверждённых перекрёстно и подтверждённых действий, каждый установленный человек один раз. Сообщается о не более чем: пострадавшие от всех действий, о которых есть подтверждающее утверждение. Формула — в docs/corroboration.md проекта vigil; любой, у кого есть записи, может её пересчитать.",
		"by.type":                   "По виду действия",
		"by.month":                  "По месяцам (месяц начала действия)",
		"group":                     "Группа",
		"confirmed":                 "Подтверждено не менее",
		"reported":                  "Сообщается о не более",
		"unknown":                   "неизвестно",
		"total":                     "Весь инцидент",
		"sources":                   "Источники по оценке",
		"sources.text":              "Надёжность каждого источника по шкале Адмиралтейства (от A — полностью надёжен до F — надёжность невозможно оценить). Источники, передающие слова одного информатора, имеют общее происхождение и считаются один раз. Люди названы только псевдонимами.",
		"name":                      "Название",
		"origin.src":                "Происхождение",
		"party":                     "Говорит от имени",
		"n.claims":                  "Утверждений",
		"own":                       "собственное",
		"items":                     "Доказательства",
		"items.text":                "Каждый материал назван ID записи и листом журнала; его содержимое, имя и размер есть только в его пакете доказательств.",
		"media":                     "Тип данных",
		"supports":                  "Связан с утверждениями",
		"no.items":                  "С утверждениями этого инцидента не связано ни одного материала.",
		"verify":                    "Как проверить этот отчёт",
		"verify.1":                  "Каждая запись выше — лист журнала доказательств организации, дерева Меркла, состояние которого зафиксировано подписанной контрольной точкой ниже. Лист — скрывающее обязательство: он ничего не раскрывает, пока не открыт его пакет.",
		"verify.2":                  "Запросите у организации пакеты доказательств для записей, которые хотите проверить, указав их ID или номера листов. Пакет содержит заявление каждой записи, соль, содержимое (если передано), доказательство включения и контрольную точку.",
		"verify.3":                  "Проверьте пакет без сети командой ниже (VKEY — открытый ключ журнала, log_vkey в /.well-known/vigil.json организации). README пакета объясняет, как проверить его вручную независимыми инструментами (sha256sum, проверка подписанных записок C2SP, доказательство включения RFC 6962).",
		"verify.4":                  "Убедитесь, что контрольная точка пакета — эта же или более поздняя, согласованная с ней (тайлы журнала /log/, C2SP tlog-tiles, позволяют любому доказать согласованность). Подписи свидетелей, если они есть, показывают, что другие видели тот же журнал.",
		"page":                      "Страница %d из %d",
		"replaced":                  "Символы, которых нет в шрифтах отчёта, показаны как �.",
		"status.legend":             "Статусы: не проверено (нет подтверждающих утверждений), сообщается (подтверждает одно происхождение), подтверждено перекрёстно (два и более независимых происхождения), подтверждено (перекрёстно, и есть доказательство или источник с оценкой A или B и достоверностью 1 или 2). Отметки указывают на опровержения и никогда не понижают статус.",
		"flag.denied_by_implicated": "отрицается причастными",
		"flag.disputed":             "оспаривается",
		"status.unverified":         "не проверено",
		"status.reported":           "сообщается",
		"status.corroborated":       "подтверждено перекрёстно",
		"status.confirmed":          "подтверждено",
		"stance.affirms":            "подтверждает",
		"stance.partially_affirms":  "подтверждает частично",
		"stance.denies":             "отрицает",
		"src.victim":                "пострадавший",
		"src.witness":               "свидетель",
		"src.ngo":                   "НКО",
		"src.media":                 "СМИ",
		"src.official":              "официальный",
		"src.social_media":          "соцсети",
		"src.document":              "документ",
		"src.other":                 "другое",
		"rel.A":                     "A — полностью надёжен",
		"rel.B":                     "B — обычно надёжен",
		"rel.C":                     "C — довольно надёжен",
		"rel.D":                     "D — обычно ненадёжен",
		"rel.E":                     "E — ненадёжен",
		"rel.F":                     "F — надёжность невозможно оценить",
		"chart.legend.c":            "подтверждено не менее",
		"chart.legend.r":            "сообщается о не более",
		"chart.numbers":             "не менее / не более",
		"people":                    "чел.",
	},
}

// tr returns the text of key in lang, formatted with args.
func tr(lang, key string, args ...any) string {
	s, ok := words[lang][key]
	if !ok {
		s = words["en"][key]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// word returns the label of a code under prefix, or the code itself.
func word(lang, prefix, code string) string {
	if s, ok := words[lang][prefix+"."+code]; ok {
		return s
	}
	return code
}

func statusLabel(lang string, s corroborate.Status) string { return word(lang, "status", string(s)) }

func flagLabels(lang string, fl []corroborate.Flag) string {
	if len(fl) == 0 {
		return "—"
	}
	out := ""
	for i, f := range fl {
		if i > 0 {
			out += ", "
		}
		out += word(lang, "flag", string(f))
	}
	return out
}

func typeLabel(lang, code string) string {
	if code == "unknown" {
		return tr(lang, "unknown")
	}
	if t, ok := vocab.ActType(code); ok {
		return t.Label(lang)
	}
	return code
}

func explanation(lang string, e corroborate.Explanation) string {
	if lang == "ru" && e.RU != "" {
		return e.RU
	}
	return e.EN
}

// localName returns the name in lang, else English, else any in key order.
func localName(names map[string]string, lang string) string {
	for _, l := range []string{lang, "en"} {
		if n, ok := names[l]; ok {
			return n
		}
	}
	best := ""
	for l := range names {
		if best == "" || l < best {
			best = l
		}
	}
	return names[best]
}

func periodText(p vigil.Period) string {
	switch {
	case p.IsZero():
		return "—"
	case p.To.IsZero() || p.To == p.From:
		return p.From.String()
	case p.From.IsZero():
		return "… – " + p.To.String()
	}
	return p.From.String() + " – " + p.To.String()
}

func victimsText(v vigil.VictimCount) string {
	if v.Min == v.Max {
		return fmt.Sprint(v.Min)
	}
	return fmt.Sprintf("%d–%d", v.Min, v.Max)
}

func keyOr(key string, id vigil.ID) string {
	if key != "" {
		return key
	}
	return id.String()
}
