import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { factAgreement } from '../src/match/verify.js';
import { ruleFlags, RULE_TOKENS } from '../src/text/boilerplate.js';
import { normalizeText } from '../src/text/normalize.js';
import { creditLines, agenciesInTokens } from '../src/provenance/agencies.js';
import { neardup, readJsonl, tempDir } from './helpers/cli.js';

// Articles written for this test. Each pair shares exactly one kind of text.
const VERSE = '﴿مَثَلُ الَّذِينَ يُنْفِقُونَ أَمْوَالَهُمْ فِي سَبِيلِ اللَّهِ كَمَثَلِ حَبَّةٍ أَنْبَتَتْ سَبْعَ سَنَابِلَ فِي كُلِّ سُنْبُلَةٍ مِائَةُ حَبَّةٍ وَاللَّهُ يُضَاعِفُ لِمَنْ يَشَاءُ وَاللَّهُ وَاسِعٌ عَلِيمٌ﴾';
const TITLE = 'صاحب السمو الملكي الأمير فيصل بن خالد بن عبدالعزيز أمير منطقة الحدود الشمالية';
const AGENCY_PARAGRAPH = 'وأوضح المتحدث الرسمي باسم الهيئة العامة للأرصاد أن الكتلة الهوائية الباردة ستؤثر على المناطق الشمالية اعتبارا من مساء الخميس، مع توقع انخفاض درجات الحرارة إلى ما دون الصفر في المرتفعات وتكون الصقيع في ساعات الصباح الباكر.';

const articles = [
  { id: 'quote-a', outlet: 'east', title: 'جمعية خيرية تطلق حملة لكفالة الأيتام', text: `أطلقت جمعية البر الخيرية في المحافظة حملتها السنوية لكفالة الأيتام بمشاركة عدد من رجال الأعمال والمتطوعين من أبناء المنطقة.\nوقال رئيس الجمعية في كلمته: قال تعالى ${VERSE} داعيا الجميع إلى المساهمة في دعم الأسر المحتاجة.\nوتستمر الحملة حتى نهاية الشهر الجاري عبر منافذ الجمعية وحساباتها البنكية المعتمدة.` },
  { id: 'quote-b', outlet: 'west', title: 'تكريم المتبرعين في مستشفى الولادة', text: `كرم مدير مستشفى الولادة والأطفال عددا من المتبرعين بالدم الذين أسهموا في إنقاذ حياة مرضى قسم العناية المركزة خلال الصيف.\nواستهل الحفل بتلاوة آيات من القرآن الكريم ${VERSE} ثم ألقى مدير المستشفى كلمة شكر فيها المتبرعين.\nووزعت في ختام الحفل الدروع التذكارية وشهادات الشكر على الحاضرين.` },
  { id: 'names-a', outlet: 'east', title: 'أمير الحدود الشمالية يدشن مشروعات مياه', text: `دشن ${TITLE} اليوم مشروعات جديدة لمياه الشرب في محافظة رفحاء بتكلفة تجاوزت مئتي مليون ريال.\nوتشمل المشروعات خزانات استراتيجية وشبكات توزيع تخدم أكثر من أربعين ألف نسمة في الأحياء الجديدة.` },
  { id: 'names-b', outlet: 'west', title: 'أمير الحدود الشمالية يستقبل مدير التعليم', text: `استقبل ${TITLE} في مكتبه بالإمارة مدير عام التعليم بالمنطقة الذي قدم تقريرا عن استعدادات العام الدراسي.\nواطلع سموه على خطط تأهيل المدارس وصيانة المباني قبل بدء الدراسة وتوفير الكتب في موعدها.` },
  { id: 'agency-a', outlet: 'east', title: 'موجة برد تضرب الشمال', text: `تشهد المناطق الشمالية موجة برد قارس هي الأولى هذا الموسم بحسب ما رصده مراسلنا في مدينة عرعر صباح اليوم.\n${AGENCY_PARAGRAPH}\nودعا الدفاع المدني السكان إلى تجنب استخدام المدافئ في الأماكن المغلقة حفاظا على سلامتهم، وعدم ترك الأطفال قرب مصادر النار.\nوشهدت أسواق المدينة إقبالا لافتا على شراء الملابس الشتوية والبطانيات، فيما ارتفعت أسعار الحطب بنسبة ملحوظة مقارنة بالأسبوع الماضي.\nوقال أحد الباعة إن الطلب تضاعف منذ بداية الأسبوع، وإن كثيرا من الأسر تفضل الحطب المحلي على المدافئ الكهربائية لانخفاض تكلفته.\nوتوقع سكان في عرعر أن تستمر البرودة حتى نهاية الشهر، مستذكرين شتاء قبل ثلاث سنوات انقطعت فيه الطرق بسبب الضباب الكثيف.` },
  { id: 'agency-b', outlet: 'west', title: 'المزارعون يستعدون للصقيع', text: `بدأ مزارعو منطقة الجوف في تغطية محاصيل الزيتون والخضروات بالأغطية البلاستيكية تحسبا لانخفاض درجات الحرارة.\n${AGENCY_PARAGRAPH}\nويقول المزارع سالم العنزي إن الصقيع كبده خسائر كبيرة في العام الماضي ولذلك بدأ الاستعداد مبكرا هذا الموسم.\nوأشار مدير فرع وزارة الزراعة إلى أن الفرق الميدانية زارت أكثر من مئتي مزرعة لتقديم الإرشادات حول حماية الأشجار المثمرة وري المحاصيل ليلا.\nوتعد الجوف من أكبر مناطق إنتاج الزيتون في المملكة، إذ تضم ملايين الأشجار ومعاصر حديثة تنتج زيتا يصدر إلى دول الجوار.\nويأمل المزارعون أن تنتهي موجة البرد سريعا قبل موسم القطاف الذي يبدأ عادة في منتصف الخريف.` },
];

let out = '';
beforeAll(() => {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'in'));
  writeFileSync(path.join(dir, 'in', 'night.jsonl'), articles.map((a) => JSON.stringify({ ...a, url: `https://example.org/${a.id}`, published_at: '2026-11-20T10:00:00Z' })).join('\n') + '\n');
  out = path.join(dir, 'out');
  const r = neardup(['run', '--input', path.join(dir, 'in'), '--output', out, '--quiet', '--set', 'report.html=false']);
  expect(r.code, r.stderr).toBe(0);
});

describe('passage links', () => {
  const pairs = (): Array<{ a: string; b: string; relation: string; passages: unknown[] }> => readJsonl(path.join(out, 'pairs.jsonl'));

  it('links two different stories that share one agency paragraph, as partial', () => {
    const p = pairs().find((x) => x.a === 'agency-a' && x.b === 'agency-b');
    expect(p?.relation).toBe('partial');
    expect(p?.passages).toHaveLength(1);
  });
  it('does not link articles sharing only a Quran verse', () => {
    expect(pairs().find((x) => x.a === 'quote-a' && x.b === 'quote-b')).toBeUndefined();
  });
  it('does not link articles sharing only a name and its titles', () => {
    expect(pairs().find((x) => x.a === 'names-a' && x.b === 'names-b')).toBeUndefined();
  });
  it('links nothing else', () => expect(pairs()).toHaveLength(1));
});

describe('same template, other facts', () => {
  const nums = (xs: string[]): Set<number> => new Set(xs.map((x) => Number(x)));
  it('two reports whose numbers disagree on both sides are not a copy', () => {
    expect(factAgreement(nums(['7215', '35', '0.48', '4.2']), nums(['7301', '86', '1.2', '5.1']))).toBeLessThan(0.5);
  });
  it('a trimmed copy missing some numbers still agrees', () => {
    expect(factAgreement(nums(['7215', '35', '0.48']), nums(['7215', '35', '0.48', '4.2', '19']))).toBe(1);
  });
  it('the sample night keeps its two market closes and two cables apart (see sample-night.test.ts)', () => {
    expect(normalizeText('مؤشر السوق')).toBe('مؤشر السوق');
  });
});

describe('boilerplate rules', () => {
  const flag = (paras: string[]): Array<string | null> => ruleFlags(paras, paras.map((p) => normalizeText(p).split(' ').filter(Boolean)));
  it('flags markers and the headlines listed after them, then stops at the first real paragraph', () => {
    expect(flag(['كلمات دلالية: الاقتصاد النفط', 'اقرأ أيضاً:', 'ارتفاع أسعار الذهب في السوق المحلية', 'هبوط الأسهم الآسيوية', 'وقال الوزير في مؤتمر صحفي عقده اليوم إن الحكومة ماضية في خطتها لخفض العجز خلال ثلاث سنوات.']))
      .toEqual(['marker', 'marker', 'related', 'related', null]);
  });
  it('needs the strings of only the first RULE_TOKENS tokens of a paragraph (the analysis makes no more)', () => {
    const paras = ['اقرأ أيضا في هذا الملف أخبار المنطقة والعالم والرياضة والاقتصاد والثقافة والفن والصحة والتعليم والتقنية', 'ارتفاع أسعار الذهب في السوق المحلية',
      'وقال الوزير في مؤتمر صحفي عقده اليوم إن الحكومة ماضية في خطتها لخفض العجز خلال ثلاث سنوات.', 'المصدر: وكالة الأنباء السعودية واس',
      'شارك فيسبوك تويتر واتساب تلغرام انستغرام يوتيوب لينكدإن بريد طباعة نسخ الرابط', 'شارك فيسبوك تويتر واتساب تلغرام انستغرام يوتيوب لينكدإن بريد طباعة نسخ الرابط عبر على',
      'الرياض - واس', 'زر الذهاب إلى الأعلى', 'زر الذهاب إلى الأعلى في الصفحة الرئيسية للموقع الإلكتروني للصحيفة اليومية الأولى في المنطقة'];
    const tokens = paras.map((p) => normalizeText(p).split(' ').filter(Boolean));
    expect(tokens.some((t) => t.length > RULE_TOKENS)).toBe(true);
    const heads = tokens.map((t) => t.slice(0, RULE_TOKENS));
    expect(ruleFlags(paras, heads, tokens.map((t) => t.length))).toEqual(ruleFlags(paras, tokens));
    expect(ruleFlags(paras, tokens)).toEqual(['marker', 'related', null, 'credit', 'share', null, 'dateline', 'share', null]);
    // Fewer strings than that for a longer paragraph is a caller's mistake, not a silent misjudgement.
    expect(() => ruleFlags(paras.slice(0, 1), [tokens[0].slice(0, 3)], [tokens[0].length])).toThrow(/only 3 were given/);
  });
  it('flags share lines, embeds, credit and dateline lines, and the back-to-top button', () => {
    expect(flag(['شارك فيسبوك تويتر واتساب', 'pic.twitter.com/abc123', 'المصدر: بوابة الفجر', 'الرياض - واس', 'زر الذهاب إلى الأعلى', 'رابط الخبر']))
      .toEqual(['share', 'embed', 'credit', 'dateline', 'share', 'share']);
  });
});

describe('credits and agencies', () => {
  it('reads credit lines', () => {
    expect(creditLines('المصدر: بوابة الفجر')).toEqual(['المصدر: بوابة الفجر']);
    expect(creditLines('الرياض (واس) - أعلن')[0]).toMatch(/واس/);
    expect(creditLines('وأضاف البيان نقلاً عن وكالة رويترز أن الاتفاق')[0]).toMatch(/^نقلا/);
  });
  it('names agencies whatever the spelling', () => {
    const tokens = normalizeText('ذكرت وكالة الانباء المركزية الكورية و(أ ف ب) ورويترز وكالة الأناضول').split(' ');
    expect(agenciesInTokens(tokens)).toEqual(['KCNA', 'Reuters', 'AFP', 'Anadolu']);
  });
});
