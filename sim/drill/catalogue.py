"""Every word a drill shows a person, in English and Simplified Chinese: one catalogue, one place.

Why one place: the narrative, the after-action report, the timeline and the animation must say the same
thing the same way (应急梯队, 综合指挥室, 一键报警 as the Zhoushan police say them), and a translator must
find every string in one file. Each key holds both languages side by side, so a message cannot exist in
one language only; a test checks both have the same ``{fields}``. Terms of the model (unit kinds, event
kinds, outcomes, inject types...) are keys ``<table>.<name>``; ``term`` falls back to the name itself for
a name the catalogue does not know (a new tier of a user's policy), so a report never breaks on data.
"""

from __future__ import annotations

import math
import string

LANGS = ("en", "zh")

# key -> (English, Chinese). Keys: <table>.<name> for terms; nar.* narrative; obj.* objectives; aar.* the
# report; cause.* / plan.* the areas for improvement and their proposed actions; fig.* figures.
CATALOGUE: dict[str, tuple[str, str]] = {
    # ---- lists, times ----------------------------------------------------------------------------
    "list.sep": (", ", "、"),
    "list.semi": ("; ", "；"),
    "list.and": (" and ", "和"),
    "list.sentence": (" ", ""),
    "dur.s": ("{s} s", "{s}秒"),
    "dur.min": ("{m} min", "{m}分钟"),
    "dur.min_s": ("{m} min {s} s", "{m}分{s}秒"),
    "dur.h_min": ("{h} h {m} min", "{h}小时{m}分"),
    "col.clock": ("clock", "时间"),
    "col.drill_time": ("drill time", "演练时间"),
    "col.what": ("what happened", "经过"),
    "yesno.yes": ("yes", "是"),
    "yesno.no": ("no", "否"),
    # ---- unit kinds (as a kind: tables, legends) -------------------------------------------------
    "unit_kind.own_security": ("enterprise guards", "企业保安"),
    "unit_kind.echelon": ("echelon", "应急梯队"),
    "unit_kind.police": ("police", "民警"),
    "unit_kind.fire_engine": ("fire engine", "消防车"),
    "unit_kind.hazmat_unit": ("hazmat unit", "危化品处置车"),
    "unit_kind.drone": ("drone", "无人机"),
    "unit_kind.command_room": ("command room", "综合指挥室"),
    "unit_kind.county_centre": ("county command centre", "县指挥中心"),
    "unit_kind.enterprise": ("enterprise", "企业"),
    # ---- one unit, named (sentences) -------------------------------------------------------------
    "unit.own_security": ("the guards of enterprise {enterprise}", "{enterprise}企业保安"),
    "unit.echelon": ("echelon {unit}", "应急梯队{unit}"),
    "unit.police": ("police car {unit}", "警车{unit}"),
    "unit.fire_engine": ("fire engine {unit}", "消防车{unit}"),
    "unit.hazmat_unit": ("hazmat unit {unit}", "危化品处置车{unit}"),
    "unit.drone": ("drone {unit}", "无人机{unit}"),
    "unit.command_room": ("the command room of {name}", "{name} 综合指挥室"),
    "unit.county_centre": ("the county command centre", "县指挥中心"),
    "unit.enterprise": ("enterprise {unit}", "{unit}企业"),
    "unit.other": ("{kind} {unit}", "{kind}{unit}"),
    # ---- tiers of the policies (conf/policy) -----------------------------------------------------
    "tier.own_security": ("own security", "企业自身安保"),
    "tier.echelon": ("echelon", "应急梯队"),
    "tier.police": ("police", "民警"),
    "tier.first_responder": ("first responder", "先期处置力量"),
    "tier.patrol_group": ("patrol group", "巡逻组"),
    "tier.station": ("station", "派出所"),
    "tier.district": ("district", "区县警力"),
    # ---- event kinds (sim/model/events.py) -------------------------------------------------------
    "event.occurred": ("occurred", "发生"),
    "event.detected": ("detected", "发现"),
    "event.reported": ("alarm received", "接警"),
    "event.decided": ("located and decided", "定位研判"),
    "event.target": ("tier target", "梯队时限"),
    "event.coordinated": ("stations coordinated", "两所协调完成"),
    "event.handoff": ("handed to another station", "移交他所"),
    "event.queued": ("queued", "排队等待"),
    "event.unserved": ("unserved", "无力量可派"),
    "event.cancelled": ("request dropped", "请求取消"),
    "event.dispatched": ("dispatched", "调派"),
    "event.mobilised": ("set off", "出发"),
    "event.arrived": ("on scene", "到场"),
    "event.contained": ("leak contained", "泄漏控制"),
    "event.cleared": ("cleared", "处置完毕"),
    "event.returned": ("back at base", "返回驻地"),
    "event.outcome": ("outcome", "处置结果"),
    "event.inject": ("inject", "注入"),
    "event.rerouted": ("re-routed", "改道"),
    "event.decision": ("trainees' decision", "学员决策"),
    # ---- incident kinds --------------------------------------------------------------------------
    "incident_kind.theft": ("theft", "盗窃"),
    "incident_kind.data_leak": ("trade-secret leak", "商业秘密泄露"),
    "incident_kind.dispute": ("dispute", "纠纷"),
    "incident_kind.cross_district_dispute": ("cross-district dispute", "跨辖区纠纷"),
    "incident_kind.chemical_leak": ("chemical leak", "危化品泄漏"),
    "incident_kind.fire": ("fire", "火情"),
    "incident_kind.illegal_drone": ("illegal drone flight", "无人机违规飞行"),
    # ---- outcomes (sim/model/outcomes.py) --------------------------------------------------------
    "outcome.escaped": ("escaped", "嫌疑人逃离"),
    "outcome.intercepted": ("intercepted", "嫌疑人被截获"),
    "outcome.calmed": ("calmed", "平息"),
    "outcome.escalated": ("escalated", "升级"),
    "outcome.contained": ("contained", "泄漏得到控制"),
    "outcome.uncontained": ("not contained", "泄漏未控制"),
    "outcome.controlled": ("controlled", "火情得到控制"),
    "outcome.flashover": ("flashover", "轰燃"),
    "outcome.operator_caught": ("operator caught", "飞手被查获"),
    "outcome.operator_left": ("operator got away", "飞手离开"),
    # ---- inject types (sim/drill/scenario.py INJECT_TYPES) ---------------------------------------
    "inject.incident": ("incident", "警情"),
    "inject.second_alarm": ("second alarm", "二次报警"),
    "inject.terminal_offline": ("terminal offline", "终端离线"),
    "inject.terminal_online": ("terminal back online", "终端恢复在线"),
    "inject.road_closed": ("road closed", "道路封闭"),
    "inject.road_reopened": ("road reopened", "道路恢复通行"),
    "inject.drones_grounded": ("drones grounded", "无人机停飞"),
    "inject.drones_flying": ("drones fly again", "无人机恢复飞行"),
    "inject.unit_unavailable": ("unit out of service", "力量暂停执勤"),
    "inject.unit_back": ("unit back in service", "力量恢复执勤"),
    "inject.task_order": ("task order", "任务指令"),
    "inject.background": ("background incidents", "背景警情"),
    # ---- alarm channels and who noticed ----------------------------------------------------------
    "channel.one_key": ("one-key alarm", "一键报警"),
    "channel.call_110": ("110 call", "110报警电话"),
    "channel.drone_centre": ("drone control centre", "无人机管控中心"),
    "detected_by.staff": ("the enterprise's staff", "企业员工"),
    "detected_by.drone": ("a patrol drone", "巡逻无人机"),
    "detected_by.passerby": ("a passer-by", "路人"),
    "detected_by.anyone": ("anyone", "任何人"),
    # ---- enterprise kinds (conf/enterprises) -----------------------------------------------------
    "enterprise_kind.petrochemical": ("petrochemical", "石化"),
    "enterprise_kind.chemical_storage": ("chemical storage", "危化品仓储"),
    "enterprise_kind.manufacturing": ("manufacturing", "制造"),
    "enterprise_kind.logistics": ("logistics", "物流"),
    "enterprise_kind.shipyard": ("shipyard", "船厂"),
    "enterprise_kind.fishery_processing": ("fishery processing", "水产加工"),
    "enterprise_kind.hightech": ("high-tech", "高新技术"),
    "enterprise_kind.office": ("office", "办公"),
    "enterprise_kind.retail": ("retail", "商贸"),
    # ---- ratings (HSEEP) -------------------------------------------------------------------------
    "rating.P": ("P", "P"),
    "rating.S": ("S", "S"),
    "rating.M": ("M", "M"),
    "rating.U": ("U", "U"),
    "rating_name.P": ("Performed without challenges", "顺利完成"),
    "rating_name.S": ("Performed with some challenges", "完成，存在一些问题"),
    "rating_name.M": ("Performed with major challenges", "完成，存在重大问题"),
    "rating_name.U": ("Unable to be performed", "未能完成"),
    "luck.median": (
        "median: every delay at its median, the same for every arm",
        "中位数：各环节时延均取中位数，各方案相同",
    ),
    "luck.seed": (
        "seed: delays drawn from the scenario's own random stream, the same for every arm",
        "随机种子：时延由本想定的随机数流抽取，各方案相同",
    ),
    "luck.replay": (
        "the run's own draws, replayed from {folder}, the same for every arm",
        "沿用原运行的随机抽样（复盘自{folder}），各方案相同",
    ),
    "count_from.alarm": ("the alarm", "报警"),
    "count_from.incident": ("the incident's start", "警情发生"),
    # ---- narrative -------------------------------------------------------------------------------
    "nar.title": ("Narrative: {title}", "过程记述：{title}"),
    "nar.arm": ("Under {arm}", "方案：{arm}"),
    "nar.start": ("The drill begins at {clock} (arm {arm})", "演练于{clock}开始（方案{arm}）"),
    "nar.after_alarm": (", {d} after the alarm", "，报警后{d}"),
    "nar.after_start": (", {d} after it began", "，发生后{d}"),
    "nar.target": (" (target {target})", "（时限{target}）"),
    "nar.at_enterprise_kind": ("{ekind} enterprise {enterprise}", "{ekind}企业{enterprise}"),
    "nar.at_enterprise": ("enterprise {enterprise}", "企业{enterprise}"),
    "nar.at_place": ("{place}", "{place}"),
    "nar.at_node": ("road node {node}", "路口{node}"),
    "nar.at_somewhere": ("an unnamed place", "未具名地点"),
    "nar.occurred": ("{label}: {kind} begins at {place}{cross}", "{label}：{place}发生{kind}{cross}"),
    "nar.cross_district": (", on the boundary of two station areas", "，位于两个派出所辖区交界处"),
    "nar.inject": ("Inject {seq} ({kind}){route}", "注入{seq}（{kind}）{route}"),
    "nar.inject_route": (", from {sender} to {receiver}", "，{sender}→{receiver}"),
    "nar.inject_by": (", by {delivery}", "，经{delivery}"),
    "nar.quote": (': "{message}"', "：“{message}”"),
    "nar.inject_target": (": {target}", "：{target}"),
    "nar.detected_staff": (
        "Staff of enterprise {enterprise} noticed it{since}",
        "{enterprise}企业员工发现警情{since}",
    ),
    "nar.detected_drone": (
        "Patrol drone {unit} spotted it from the air{since}",
        "巡逻无人机{unit}空中发现警情{since}",
    ),
    "nar.detected_passerby": ("A passer-by noticed it{since}", "路人发现警情{since}"),
    "nar.one_key": (
        "The guards of enterprise {enterprise} pressed the one-key alarm{since}; {room} received it",
        "{enterprise}企业保安按下一键报警{since}；{room}接警",
    ),
    "nar.call_110": (
        "{caller} called 110{since}; {room} took the call",
        "{caller}拨打110{since}；{room}接警",
    ),
    "nar.caller_staff": ("the guards of enterprise {enterprise}", "{enterprise}企业保安"),
    "nar.caller_passerby": ("a passer-by", "路人"),
    "nar.drone_centre": (
        "The drone control centre ordered {room} to act{since}",
        "无人机管控中心指令{room}处置{since}",
    ),
    "nar.second_alarm": (
        "A second alarm ({channel}) reached {room}; it was merged with the first",
        "{room}收到二次报警（{channel}），与首次报警合并处置",
    ),
    "nar.decided": ("{room} located the incident and decided{since}", "{room}完成定位研判{since}"),
    "nar.targets": ("; targets: {targets}", "；时限：{targets}"),
    "nar.tier_target": ("{tier} {target}", "{tier}{target}"),
    "nar.dispatched": ("Dispatched: {units}", "调派：{units}"),
    "nar.sent_tier": ("{who} ({tier} tier)", "{who}（{tier}梯次）"),
    "nar.sent_drone": ("{who} (overwatch)", "{who}（空中监视）"),
    "nar.sent_brigade": ("{who} (sent by the 119 centre)", "{who}（119指挥中心调派）"),
    "nar.redirected": (", sent on from its way back to base", "，返程途中直接改派"),
    "nar.mobilised": ("{who} set off", "{who}出发"),
    "nar.arrived": ("{who} arrived on scene{since}{target}", "{who}到场{since}{target}"),
    "nar.arrived_drone": (
        "{who} was overhead, streaming live video{since}",
        "{who}抵达现场上空并回传实时视频{since}",
    ),
    "nar.queued": (
        "No unit was free for the {tier} request: it waits in the queue",
        "无空闲{tier}力量：请求排队等待",
    ),
    "nar.unserved": (
        "No unit can answer the {tier} tier here: unserved",
        "该处无力量可承担{tier}梯次：无法派出",
    ),
    "nar.cancelled": (
        "The queued request for the {tier} tier was dropped: the incident was over",
        "{tier}梯次的排队请求取消：警情已结束",
    ),
    "nar.handoff": (
        "The county command centre handed the incident to another station's car ({d})",
        "县指挥中心将警情移交他所警车（用时{d}）",
    ),
    "nar.coordinated_county": (
        "The county command centre coordinated stations {a} and {b}{since}",
        "县指挥中心完成{a}、{b}两所协调{since}",
    ),
    "nar.coordinated_phone": (
        "Stations {a} and {b} coordinated by phone{since}",
        "{a}、{b}两所电话联络完成协调{since}",
    ),
    "nar.contained": ("{who} contained the leak{since}", "{who}控制住泄漏{since}"),
    "nar.someone": ("a unit on scene", "现场力量"),
    "nar.outcome.intercepted": (
        "The suspect was stopped (intercepted) by {who}{since}",
        "{who}截获嫌疑人{since}",
    ),
    "nar.outcome.escaped": ("The suspect got away (escaped){since}", "嫌疑人逃离{since}"),
    "nar.outcome.calmed": ("The dispute was calmed by {who}{since}", "{who}平息纠纷{since}"),
    "nar.outcome.escalated": ("The dispute escalated{since}", "纠纷升级{since}"),
    "nar.outcome.controlled": (
        "The fire was controlled by {who} before flashover{since}",
        "{who}在轰燃前控制火情{since}",
    ),
    "nar.outcome.flashover": ("The fire reached flashover{since}", "火情发生轰燃{since}"),
    "nar.outcome.contained": ("The leak was contained by {who}{since}", "{who}控制住泄漏{since}"),
    "nar.outcome.uncontained": ("The leak ran its course, not contained{since}", "泄漏未能控制{since}"),
    "nar.outcome.operator_caught": (
        "The drone's operator was caught by {who}{since}",
        "{who}查获无人机飞手{since}",
    ),
    "nar.outcome.operator_left": ("The drone's operator got away{since}", "无人机飞手离开{since}"),
    "nar.outcome.other": ("Outcome: {outcome}{since}", "处置结果：{outcome}{since}"),
    "nar.area": ("; affected area {area} m²", "；影响面积{area}平方米"),
    "nar.decision_dispatch": (
        "Trainees' decision: {choice} for the {tier} tier (the policy: {policy})",
        "学员决策：{tier}梯次调派{choice}（策略原选{policy}）",
    ),
    "nar.decision_unavailable": (
        "; {choice} was not free or could not reach the scene, so {policy} went",
        "；{choice}不空闲或无法到达现场，改由{policy}出动",
    ),
    "nar.decision_ask_county_yes": (
        "Trainees' decision: ask the county command centre to coordinate (the policy: {policy})",
        "学员决策：报请县指挥中心协调（策略：{policy}）",
    ),
    "nar.decision_ask_county_no": (
        "Trainees' decision: the stations liaise themselves, without the county command centre (the policy "
        "would ask it: {policy})",
        "学员决策：不报县指挥中心，由两所自行联络（策略是否报请：{policy}）",
    ),
    "nar.decision_launch_drone_yes": (
        "Trainees' decision: launch the docked drone for overwatch (the policy: {policy})",
        "学员决策：起飞机巢无人机空中监视（策略：{policy}）",
    ),
    "nar.decision_launch_drone_no": (
        "Trainees' decision: keep the docked drone on the ground (the policy would launch it: {policy})",
        "学员决策：机巢无人机不起飞（策略是否起飞：{policy}）",
    ),
    "nar.note": (' ("{note}")', "（“{note}”）"),
    "nar.rerouted": (
        "{who} re-routed via road node {node} ({left} still to drive)",
        "{who}改道经路口{node}（剩余车程{left}）",
    ),
    "nar.turned_back": ("{who} turned back: no road to the scene", "{who}返回：无道路可达现场"),
    "nar.stranded": (
        "{who} is stranded: no road to the scene or home; it waits, free, where it is",
        "{who}受阻滞留：既无路到达现场也无路返回，原地待命",
    ),
    "nar.other": ("{who}: {kind}", "{who}：{kind}"),
    "nar.bg": ("Background incident #{id}: {kind} at {place}", "背景警情#{id}：{place}发生{kind}"),
    "nar.bg_alarm": ("alarm {clock} ({channel})", "{clock}接警（{channel}）"),
    "nar.bg_first": ("first on scene {who}, {d} after the alarm", "首到力量{who}，报警后{d}"),
    "nar.bg_nobody": ("no unit on scene", "无力量到场"),
    "nar.bg_no_alarm": ("never reported", "未报警"),
    "nar.bg_queued": ("a request waited in the queue", "有请求排队等待"),
    # ---- objectives: reasons, cells, rules -------------------------------------------------------
    "why.no_incident": ("the incident is not in this log", "日志中无此警情"),
    "why.no_alarm": ("no alarm reached a command room", "未有报警到达指挥室"),
    "why.none_counted": ("no incident counted", "无可计入警情"),
    "obj.never_arrived": ("no {kind} on scene", "{kind}未到场"),
    "obj.never_coordinated": ("not coordinated", "未完成协调"),
    "obj.never_detected": ("not noticed by {by}", "{by}未发现"),
    "obj.no_outcome": ("no outcome by the end", "演练结束时无结果"),
    "obj.share": ("{met} of {n} ({share})", "{n}起中{met}起（{share}）"),
    "obj.target_time": ("{target} from {start}", "{start}后{target}内"),
    "obj.target_share": (
        "{target} from {start}, at {share} of incidents",
        "{start}后{target}内，达标率{share}",
    ),
    "obj.target_outcome": ("ends {outcome}", "结果：{outcome}"),
    "obj.target_outcome_share": ("ends {outcome} at {share} of incidents", "{share}警情结果为{outcome}"),
    "obj.by_county": ("{d} (county command centre)", "{d}（县指挥中心）"),
    "obj.by_phone": ("{d} (stations by phone)", "{d}（两所电话联络）"),
    "obj.detected_by": ("{d} ({by})", "{d}（{by}）"),
    "rule.time": (
        "Times (arrival, coordination, detection): P if within the target; S if within 1.5 × the target; "
        "M if done later than that; U if never done by the end of the log (no unit of that kind arrived, "
        "the stations were never coordinated, or nobody, or not the one named, noticed it).",
        "时间类目标（到场、协调、发现）：在时限内为P；在1.5倍时限内为S；超过1.5倍时限但完成为M；至日志结束仍未完成"
        "（该类力量未到场、两所未完成协调、或无人/非指定方发现）为U。",
    ),
    "rule.outcome": (
        "Outcomes: P if the incident ended as expected; U otherwise (another outcome, or none by the end).",
        "结果类目标：结果符合预期为P；否则（结果不同或至结束无结果）为U。",
    ),
    "rule.share": (
        "Every incident ('*'): the share meeting the target among the incidents it applies to that reached "
        "the alarm (for detection: every incident); P at or above the required share; S up to 10 points "
        "below it; M up to 25 points below; U lower, or when no incident counted.",
        "全部警情（'*'）：在已报警且适用的警情中（发现类为全部警情）计算达标比例；达到要求比例为P；低于要求不超过"
        "10个百分点为S；不超过25个百分点为M；更低或无可计入警情为U。",
    ),
    # ---- the after-action report: headings -------------------------------------------------------
    "aar.title": ("After-action report: {title}", "演练总结评估报告：{title}"),
    "aar.contents": ("Contents", "目录"),
    "aar.h.overview": ("Overview", "概述"),
    "aar.h.objectives": ("Objectives and ratings", "目标与评级"),
    "aar.h.strengths": ("Strengths", "优势"),
    "aar.h.afi": ("Areas for improvement", "待改进事项"),
    "aar.h.decisions": ("The trainees' decisions and their effect", "学员决策及其影响"),
    "aar.h.side_by_side": ("Side by side", "各方案对比"),
    "aar.h.plan": ("Improvement plan", "改进计划"),
    "aar.h.narrative": ("Narrative", "过程记述"),
    "aar.h.figures": ("Figures", "图表"),
    # overview
    "aar.ov.scenario": ("Scenario: {title} ({id})", "想定：{title}（{id}）"),
    "aar.ov.summary": ("Summary: {summary}", "概要：{summary}"),
    "aar.ov.source": ("Source: {source}", "来源：{source}"),
    "aar.ov.site": ("Site: {site}", "场地：{site}"),
    "aar.ov.site_synthetic": (
        "Site: {site} (SYNTHETIC: a stylised layout, not surveyed roads and facilities)",
        "场地：{site}（合成场地（SYNTHETIC）：示意布局，并非实测道路与设施）",
    ),
    "aar.ov.when": (
        "Start {start} (clock), duration {duration}, end {end}",
        "开始时间{start}，时长{duration}，结束时间{end}",
    ),
    "aar.ov.arms": ("Arms compared: {arms}", "对比方案：{arms}"),
    "aar.ov.arm_trainees": ("{arm} (following the trainees' decisions)", "{arm}（按学员决策）"),
    "aar.ov.luck": ("Luck: {luck}", "随机性：{luck}"),
    "aar.ov.incidents": (
        "Incidents: {scripted} scripted ({labels}), {background} background",
        "警情：想定警情{scripted}起（{labels}），背景警情{background}起",
    ),
    "aar.ov.times": (
        "Times: clock times are the time of day; drill time counts from the start ({start} = 00:00:00). The "
        "alarm is the first report of an incident reaching a command room (one-key alarm, 110 call or the "
        "drone control centre); an arrival is the first unit of that kind on scene, counted from the alarm "
        "unless an objective says from the incident's start.",
        "时间说明：时间为当日时刻；演练时间自开始计（{start} = 00:00:00）。报警指警情首次到达指挥室"
        "（一键报警、110报警电话或无人机管控中心）；到场指该类力量首个到达现场，除目标注明自警情发生起算外，"
        "均自报警起算。",
    ),
    "aar.ov.rests_on": ("The results rest on these assumptions:", "评估结果基于以下假设："),
    "aar.ov.none": ("none given", "未说明"),
    # objectives
    "aar.obj.intro": (
        "Each objective measured from the event log, per arm; the rating follows one rule:",
        "各目标均依据事件日志按方案测算；评级规则如下：",
    ),
    "aar.col.objective": ("objective", "目标"),
    "aar.col.target": ("target", "要求"),
    "aar.col.measured": ("measured: {arm}", "实测：{arm}"),
    "aar.col.rating": ("rating: {arm}", "评级：{arm}"),
    "aar.col.issue": ("issue", "问题"),
    "aar.col.action": ("corrective action", "改进措施"),
    "aar.col.owner": ("owner", "责任方"),
    "aar.col.due": ("due", "完成时限"),
    "aar.col.what": ("what", "项目"),
    "aar.col.arm": ("{arm}", "{arm}"),
    "aar.ratings": ("Ratings: {ratings}.", "评级：{ratings}。"),
    "aar.rating_def": ("{code} {name}", "{code} {name}"),
    # strengths and areas for improvement
    "aar.str.none": ("No objective was performed without challenges.", "无顺利完成的目标。"),
    "aar.afi.none": ("None: every objective was performed without challenges.", "无：所有目标均顺利完成。"),
    "aar.item": ("{id} {text} ({arms}): {rating}, {measured}", "{id} {text}（{arms}）：{rating}，{measured}"),
    "aar.evidence": ("Evidence: {evidence}", "依据：{evidence}"),
    "aar.cause": ("Cause: {cause}", "原因：{cause}"),
    "aar.ev.arrival": (
        "{who} on scene at {at}, {d} after {start} at {from_clock}",
        "{who}于{at}到场，{start}（{from_clock}）后{d}",
    ),
    "aar.ev.outcome": ("{outcome} at {at}{by}", "{at}{outcome}{by}"),
    "aar.ev.by": (" (made by {who})", "（{who}）"),
    "aar.ev.coordinated": (
        "coordinated at {at}, {d} after the alarm at {from_clock}",
        "{at}完成协调，报警（{from_clock}）后{d}",
    ),
    "aar.ev.detected": (
        "noticed by {by} at {at}, {d} after the start at {from_clock}",
        "{by}于{at}发现，发生（{from_clock}）后{d}",
    ),
    "aar.ev.share": ("{met} of {n} incidents met it", "{n}起警情中{met}起达标"),
    "aar.ev.missed": ("missed: {items}", "未达标：{items}"),
    "aar.ev.missed_item": ("{label} {measured}", "{label} {measured}"),
    "aar.ev.more": ("and {n} more", "另有{n}起"),
    # causes read from the log
    "cause.steps": ("steps: {steps}; the longest was {longest}", "各环节：{steps}；用时最长的是{longest}"),
    "cause.step": ("{step} {d}", "{step}{d}"),
    "cause.step_usual": ("{step} {d} (usual {usual} over {n})", "{step}{d}（通常{usual}，共{n}次）"),
    "step.detect": ("noticing", "发现"),
    "step.report": ("raising the alarm", "报警"),
    "step.decide": ("locating and deciding", "定位研判"),
    "step.wait": ("waiting for a free unit", "等待空闲力量"),
    "step.handoff": ("handoff to another station", "移交他所"),
    "step.mobilise": ("mobilising", "集结出发"),
    "step.drive": ("driving", "途中行驶"),
    "cause.terminal_offline": (
        "the alarm came by a 110 call: the terminal of enterprise {enterprise} was offline (inject {seq})",
        "{enterprise}企业一键报警终端离线（注入{seq}），只能拨打110报警",
    ),
    "cause.call_110": (
        "the alarm came by a 110 call, slower to answer and locate than a one-key alarm",
        "经110电话报警，接警和定位均慢于一键报警",
    ),
    "cause.queue": (
        "the {kind} request waited {d} in the queue: no free unit could come",
        "{kind}请求排队等待{d}：无空闲力量可以前往",
    ),
    "cause.stranded": (
        "{who} was stranded: no road to the scene or home (inject {seq}: {road})",
        "{who}受阻滞留：既无路到达现场也无路返回（注入{seq}：{road}）",
    ),
    "cause.unserved": ("no {kind} could answer the {tier} tier", "无{kind}可承担{tier}梯次"),
    "cause.handoff": (
        "the county command centre handed it to another station's car ({d})",
        "县指挥中心移交他所警车（{d}）",
    ),
    "cause.rerouted": (
        "{who} was re-routed on the way (inject {seq}: {road})",
        "{who}途中改道（注入{seq}：{road}）",
    ),
    "cause.turned_back": (
        "{who} turned back: no road to the scene (inject {seq}: {road})",
        "{who}无路可达而返回（注入{seq}：{road}）",
    ),
    "cause.unit_unavailable": ("{unit} was out of service (inject {seq})", "{unit}暂停执勤（注入{seq}）"),
    "cause.redirected": (
        "{who} came from another incident, on its way back to base",
        "{who}由其他警情返程途中改派",
    ),
    "cause.trainee_choice": (
        "the trainees sent {choice} where the policy would have sent {policy}",
        "学员调派{choice}，策略原选{policy}",
    ),
    "cause.trainee_unavailable": (
        "the trainees chose {choice}, which was not free or could not reach the scene",
        "学员选择的{choice}不空闲或无法到达现场",
    ),
    "cause.drones_grounded": ("the drones were grounded (inject {seq})", "无人机停飞（注入{seq}）"),
    "cause.too_late": (
        "the outcome was {outcome} at {at}, {d} after the alarm{first}",
        "{at}（报警后{d}）结果为{outcome}{first}",
    ),
    "cause.too_early": (
        "the outcome was {outcome} at {at}, {d} before any alarm reached a command room{first}",
        "{at}结果为{outcome}，比报警到达指挥室早{d}{first}",
    ),
    "cause.not_sent": ("no {kind} was sent to it under this arm", "该方案未调派{kind}"),
    "cause.no_drones": (
        "no drone flew under this arm (none in its log)",
        "该方案中无人机未出动（日志中无无人机）",
    ),
    "cause.first_after": ("; the first unit on scene, {who}, came {d} later", "；首个到场的{who}晚到{d}"),
    "cause.first_before": ("; {who} was on scene from {at}", "；{who}已于{at}到场"),
    "cause.nobody": ("; no unit was ever on scene", "；始终无力量到场"),
    "cause.detected_other": ("{by} noticed it first", "{by}先发现警情"),
    "cause.trainee_no_county": (
        "the trainees chose not to ask the county command centre; the stations liaised by phone ({d})",
        "学员未报请县指挥中心协调，两所电话联络（{d}）",
    ),
    "cause.share_longest": ("the longest step: {counts}", "用时最长的环节：{counts}"),
    "cause.share_count": ("{step} in {n}", "{step}{n}起"),
    "cause.share_queued": (
        "{n} of the incidents that missed waited in the queue for a free unit",
        "未达标警情中{n}起排队等待空闲力量",
    ),
    "cause.late_alarm": (
        "the alarm reached the command room {d} after the incident began",
        "警情发生{d}后报警才到达指挥室",
    ),
    "cause.liaison": (
        "the two stations coordinated by phone ({d}) instead of through the county command centre",
        "两所电话联络协调（{d}），未经县指挥中心统一协调",
    ),
    "cause.coordinated_late": ("the stations were coordinated only at {at}", "两所直至{at}才完成协调"),
    "cause.share_misses.one": ("1 incident missed the target", "1起警情未达标"),
    "cause.share_misses": ("{n} incidents missed the target", "{n}起警情未达标"),
    "cause.unknown": ("the log shows no single cause", "日志未显示单一原因"),
    # trainees' decisions
    "aar.dec.none": (
        "None: the scenario records no decisions of the trainees.",
        "无：本想定未记录学员决策。",
    ),
    "aar.dec.not_reached": (
        "The decision points were never reached in the log (no decision event), so the decisions changed "
        "nothing.",
        "日志中未出现决策点（无学员决策事件），因此学员决策未产生影响。",
    ),
    "aar.dec.compare": ("{trainees} against {policy}:", "{trainees}与{policy}对比："),
    "aar.dec.effect_arrival": (
        "{label}: first {kind} on scene {mine}, against {theirs} under the policy{diff}",
        "{label}：首个{kind}{mine}到场，策略方案为{theirs}{diff}",
    ),
    "aar.dec.after_alarm": ("{d} after the alarm", "报警后{d}"),
    "aar.dec.diff": (" ({d})", "（{d}）"),
    "aar.dec.later": ("{d} later", "晚{d}"),
    "aar.dec.earlier": ("{d} earlier", "早{d}"),
    "aar.dec.never": ("never", "未"),
    "aar.dec.effect_outcome": (
        "{label} outcome: {mine}, against {theirs} under the policy",
        "{label}结果：{mine}，策略方案为{theirs}",
    ),
    "aar.dec.same_outcome": ("{label} outcome: {outcome} under both", "{label}结果：两方案均为{outcome}"),
    "aar.dec.effect_rating": (
        "objective {id}: {mine} against {theirs}",
        "目标{id}：{mine}，策略方案为{theirs}",
    ),
    "aar.dec.no_effect": (
        "The decisions made no difference to the arrivals or the outcomes.",
        "学员决策对到场时间和处置结果没有影响。",
    ),
    "aar.dec.no_base": (
        "There is no arm of {policy} without the trainees to compare with.",
        "无{policy}的策略方案可对比。",
    ),
    # side by side
    "aar.sbs.intro": (
        "The arms replay the same incidents with the same luck; highlighted cells differ from {first}.",
        "各方案重放相同警情、相同随机性；高亮单元格与{first}不同。",
    ),
    "aar.sbs.first": (
        "{label}: first {kind} on scene (from the alarm)",
        "{label}：首个{kind}到场（自报警起）",
    ),
    "aar.sbs.coordinated": (
        "{label}: stations coordinated (from the alarm)",
        "{label}：两所完成协调（自报警起）",
    ),
    "aar.sbs.outcome": ("{label}: outcome", "{label}：处置结果"),
    "aar.sbs.bg_bad": ("background incidents with a bad outcome", "背景警情中处置不利的"),
    "aar.sbs.queued": ("requests that waited in the queue", "排队等待的请求"),
    "aar.sbs.same": ("The arms did not differ in these rows.", "各方案在以上各项无差别。"),
    "aar.sbs.differ": ("They differ in: {rows}.", "差别在于：{rows}。"),
    "aar.sbs.never": ("none", "未到场"),
    "aar.sbs.one": ("One arm only: nothing to compare.", "仅一个方案，无对比。"),
    # improvement plan
    "aar.plan.intro": (
        "Proposals drawn from the areas for improvement, for the exercise team to confirm, change or drop.",
        "以下为根据待改进事项提出的建议，由演练组织方确认、修改或删除。",
    ),
    "aar.plan.none": (
        "No corrective action proposed: nothing to improve was found.",
        "未发现需改进事项，暂无改进建议。",
    ),
    "owner.command_room": ("{station} command room", "{station} 综合指挥室"),
    "owner.echelon_leader": ("echelon leader of grid {grid}", "{grid}网格应急梯队队长"),
    "owner.security_chief": ("security chief of enterprise {enterprise}", "{enterprise}企业保卫负责人"),
    "owner.fire_control": ("the 119 centre (fire service)", "119指挥中心（消防）"),
    "owner.county": ("county command centre", "县指挥中心"),
    "owner.station": ("{station}", "{station}"),
    "owner.planners": ("exercise planning team", "演练策划组"),
    "due.days": ("within {n} days", "{n}日内"),
    "due.hot_wash": ("at the hot wash after the drill", "演练结束后的即时讲评会上"),
    "plan.terminal_offline": (
        "Check every terminal's online status on the console at each shift change; restore the terminal of "
        "enterprise {enterprise} and agree a backup channel with its guards",
        "每班交接时在控制台核查各终端在线状态；恢复{enterprise}企业终端，并与其保安约定备用报警方式",
    ),
    "plan.call_110": (
        "Bring enterprise {enterprise} onto the one-key alarm platform, or repair its terminal",
        "推动{enterprise}企业接入一键报警平台或修复其终端",
    ),
    "plan.late_alarm": (
        "Brief the staff and guards of enterprise {enterprise} on noticing and reporting at once; review its "
        "CCTV",
        "对{enterprise}企业员工和保安开展发现即报培训；检查其视频监控覆盖",
    ),
    "plan.decide": (
        "Command-room drill on verifying and locating an alarm (it took {d})",
        "开展指挥室接警核实与定位演练（本次用时{d}）",
    ),
    "plan.queue": (
        "Agree a rule for when the grid's {kind} is busy (send the nearest free one, as echelon_overflow "
        "does), or add a second team where requests queued (grid {grid})",
        "制定网格{kind}出警时的补位规则（如echelon_overflow就近调派空闲力量），或在排队的网格（{grid}）增设第二支队伍",
    ),
    "plan.queue_other": (
        "Agree who covers when every {kind} nearby is busy or out of service (a neighbouring station's unit, "
        "sent at once)",
        "明确附近{kind}均在出警或暂停执勤时由谁补位（邻近派出所力量即时增援）",
    ),
    "plan.unserved": (
        "Make sure some {kind} can reach incidents in grid {grid}",
        "确保{grid}网格警情有{kind}可以到达",
    ),
    "plan.mobilise": (
        "Turn-out practice for {who} (it took {d} to set off)",
        "组织{who}集结出发训练（本次用时{d}）",
    ),
    "plan.drive": (
        "Review where {who} waits, or pre-position it at busy hours: the drive took {d}",
        "评估{who}备勤点位置或高峰时段前置备勤：本次车程{d}",
    ),
    "plan.handoff": (
        "Agree cross-station help in advance so the county command centre's handoff is quicker",
        "预先约定跨所支援机制，缩短县指挥中心移交时间",
    ),
    "plan.rerouted": (
        "Plan alternative routes and units on the far side for when {road} is closed",
        "制定{road}封闭时的备用路线和对岸备勤力量",
    ),
    "plan.unit_unavailable": (
        "Name the unit that covers for {unit} when it is out of service",
        "明确{unit}暂停执勤时的替补力量",
    ),
    "plan.trainee_choice": (
        "Debrief the dispatch choice of {choice} instead of {policy}: nearest free unit first",
        "复盘调派{choice}而非{policy}的决定：坚持就近调派空闲力量",
    ),
    "plan.drones_grounded": (
        "Plan ground patrols to cover the drones' areas while they are grounded",
        "制定无人机停飞期间的地面巡逻补位方案",
    ),
    "plan.liaison": (
        "Ask the county command centre to coordinate cross-district incidents at once instead of phoning",
        "跨辖区警情第一时间报请县指挥中心统一协调，不再依赖两所电话联络",
    ),
    "plan.too_late": (
        "Bring the first unit that counts to {label} earlier: the outcome ({outcome}) came {d} after the "
        "alarm",
        "缩短{label}首个有效处置力量到场时间：报警后{d}即出现{outcome}",
    ),
    "plan.share": (
        "Review each incident that missed (listed under the areas for improvement) and the step that "
        "delayed it",
        "逐起复盘未达标警情（见待改进事项）及其延误环节",
    ),
    "plan.review": ("Review objective {id}: {text}", "复盘目标{id}：{text}"),
    "aar.issue": ("{id} ({arm}): {cause}", "{id}（{arm}）：{cause}"),
    # figures
    "aar.fig.timeline": (
        "Timeline: what each responder did, and when, per arm.",
        "时间线：各方案中每支力量的行动及时间。",
    ),
    "aar.fig.still": ("A frame of the animation.", "动画截帧。"),
    "aar.fig.animation": ("The animation ({name})", "动画（{name}）"),
    "aar.fig.none": ("No figures in this folder.", "本文件夹中无图表。"),
    # ---- echelon replay: one incident of a run as a drill (sim/drill/replay.py) --------------------
    "replay.title": (
        "Replay of incident {label} ({kind}) from {folder}",
        "复盘：{folder} 中的{label}号警情（{kind}）",
    ),
    "replay.arrival": ("{tier} on scene within {target} of the alarm", "报警后{target}内{tier}到场"),
    "replay.outcome": ("The incident ends: {outcome}", "处置结果：{outcome}"),
    "replay.inject": ("{kind} at {where}", "{where}发生{kind}"),
    "replay.node": ("road node {node}", "道路节点{node}"),
    # ---- printable inject cards (sim/drill/msel.py) ------------------------------------------------
    "cards.expected": ("Expected action", "预期行动"),
    "cards.objective": ("Objective", "演练目标"),
    "cards.delivery": ("Delivery:", "传递方式："),
    "cards.cards": ("Inject cards", "情景注入卡"),
    "cards.inject": ("inject", "条注入"),
    "cards.injects": ("injects", "条注入"),
    "cards.start": ("starts at", "开始时间"),
    # ---- figures (timeline and animation engineers: figure_labels) -------------------------------
    "fig.common.clock_prefix": ("Drill time", "演练时间"),
    "fig.common.alarm": ("alarm", "报警"),
    "fig.common.inject": ("Inject", "注入"),
    "fig.common.synthetic": ("SYNTHETIC site", "合成场地（SYNTHETIC）"),
    "fig.common.phase.mobilising": ("mobilising", "集结"),
    "fig.common.phase.en_route": ("on the way", "途中"),
    "fig.common.phase.on_scene": ("on scene", "现场处置"),
    "fig.common.phase.returning": ("returning", "返回"),
    "fig.common.target.60": ("1 min", "1分钟"),
    "fig.common.target.180": ("3 min", "3分钟"),
    "fig.common.target.300": ("5 min", "5分钟"),
    "fig.timeline.title": (
        "Drill timeline: what each responder did, and when",
        "演练时间线：各力量的行动及时间",
    ),
    "fig.timeline.caption": (
        "Each lane is a unit that took part, grouped by kind; its bars show when it was mobilising, on the "
        "way, on scene and returning. Coloured vertical lines: each tier's target for {incidents}, counted "
        "from {moment}; a dot marks the first unit of each tier on scene, with its time counted from the "
        "same moment. Dashed numbered lines: injects (MSEL number). Drill time 00:00 = {clock}.",
        "每条泳道为一支参与力量，按类别分组；色条表示集结、途中、现场处置和返回的时段。彩色竖线：{incidents}各梯次的"
        "时限，自{moment}起算；圆点为各梯次首个到场力量，时间自同一时刻起算。带编号虚线：注入（MSEL序号）。"
        "演练时间00:00 = {clock}。",
    ),
    "fig.timeline.several_arms": (
        "The arms replay the same incidents with the same luck; a bold dot with a note: the tier's first "
        "arrival differs from {arm}'s.",
        "各方案重放相同警情、相同随机性；加粗圆点及标注：该梯次首到时间与{arm}不同。",
    ),
    "fig.timeline.hidden_lanes": (
        "{hidden} more units took part and are not shown (at most {cap} lanes).",
        "另有{hidden}支力量参与未显示（最多{cap}条泳道）。",
    ),
    "fig.timeline.synthetic": (
        "SYNTHETIC site: shapes, positions and facilities are not surveyed",
        "合成场地（SYNTHETIC）：形状、位置和设施均非实测",
    ),
    "fig.timeline.x_axis": (
        "drill time (mm:ss from the start of the drill)",
        "演练时间（自演练开始，分:秒）",
    ),
    "fig.timeline.arm_title": ("{arm}", "{arm}"),
    "fig.timeline.lane": ("{kind} {unit}", "{kind}{unit}"),
    "fig.timeline.incident_row": ("{incident} {kind}", "{incident} {kind}"),
    "fig.timeline.target_line": ("{incident} {tier} {target}", "{incident} {tier}{target}"),
    "fig.timeline.target_short": ("{incident} {target}", "{incident} {target}"),
    "fig.timeline.inject_line": ("{seq} {what} {target}", "{seq} {what} {target}"),
    "fig.timeline.vs_later": ("+{diff} vs {arm}", "比{arm}晚{diff}"),
    "fig.timeline.vs_earlier": ("-{diff} vs {arm}", "比{arm}早{diff}"),
    "fig.timeline.vs_missing": ("none under {arm}", "{arm}中未到场"),
    "fig.timeline.not_on_scene": ("{tier}: none on scene ({arm}: {time})", "{tier}：未到场（{arm}：{time}）"),
    "fig.timeline.no_tier": (
        "{tier}: not a tier of this arm ({arm}: {time})",
        "{tier}：本方案无此梯次（{arm}：{time}）",
    ),
    "fig.timeline.min_s": ("{m} min {s} s", "{m}分{s}秒"),
    "fig.timeline.min": ("{m} min", "{m}分钟"),
    "fig.timeline.s": ("{s} s", "{s}秒"),
    "fig.timeline.legend_faded": ("work on other incidents", "处置其他警情"),
    "fig.timeline.legend_off_duty": ("out of service (inject)", "暂停执勤（注入）"),
    "fig.timeline.legend_rerouted": ("re-routed", "改道"),
    "fig.timeline.legend_turned_back": ("turned back / stranded", "返回/受阻"),
    "fig.timeline.legend_start": ("incident starts", "警情发生"),
    "fig.timeline.legend_alarm": ("alarm (first report to a command room)", "报警（首次到达指挥室）"),
    "fig.timeline.legend_good": ("outcome: good", "结果：有利"),
    "fig.timeline.legend_bad": ("outcome: bad", "结果：不利"),
    "fig.timeline.legend_first": ("tier's first unit on scene", "梯次首个到场力量"),
    "fig.timeline.legend_inject": ("inject", "注入"),
    "fig.timeline.legend_coordinated": (
        "stations coordinated (county centre or phone)",
        "两所完成协调（县指挥中心或电话）",
    ),
    "fig.timeline.coordinated_county": ("coordinated via county centre, {time}", "经县指挥中心协调，{time}"),
    "fig.timeline.coordinated_phone": ("coordinated by phone, {time}", "两所电话协调，{time}"),
    "fig.timeline.legend_target": ("target: {tier}", "时限：{tier}"),
    "fig.timeline.moment.alarm": (
        "the alarm (the first report reaching a command room)",
        "报警（首次到达指挥室）",
    ),
    "fig.timeline.moment.incident": ("the incident's start", "警情发生"),
    "fig.animation.title": ("Drill replay", "演练回放"),
    "fig.animation.clock": ("Time", "时刻"),
    "fig.animation.road_closed": ("road closed", "封闭道路"),
    "fig.animation.day": ("day {n}", "第{n}天"),
    "fig.animation.police": ("police car", "警车"),
    "fig.animation.echelon": ("echelon team", "应急梯队"),
    "fig.animation.fire_engine": ("fire engine", "消防车"),
    "fig.animation.hazmat_unit": ("hazmat unit", "危化品处置车"),
    "fig.animation.drone": ("drone", "无人机"),
    "fig.animation.own_security": ("enterprise guards", "企业保安"),
    "fig.animation.base": ("base (station, post, nest)", "驻地（派出所、备勤点、机巢）"),
    "fig.animation.incident": ("incident", "警情"),
    "fig.animation.incident_over": ("incident over", "已处置警情"),
    "fig.animation.leak": ("chemical leak: affected area", "危化品泄漏影响范围"),
    "fig.animation.road": ("road", "道路"),
}

# Term tables the timeline shows by their own names (its labels dict has "unit_kind.echelon" etc.).
FIGURE_TERMS = ("unit_kind", "tier", "inject", "incident_kind", "outcome")


def _lang_index(lang: str) -> int:
    if lang not in LANGS:
        raise ValueError(f"language is one of {', '.join(LANGS)}, got {lang!r}")
    return LANGS.index(lang)


def has(key: str) -> bool:
    return key in CATALOGUE


def msg(key: str, lang: str, **fields: object) -> str:
    """The message ``key`` in ``lang`` with ``fields`` filled in (extra fields are ignored)."""
    try:
        template = CATALOGUE[key][_lang_index(lang)]
    except KeyError:
        raise KeyError(f"no drill message {key!r} in sim/drill/catalogue.py") from None
    return template.format(**fields) if fields or "{" in template else template


def term(table: str, name: str, lang: str) -> str:
    """A term of the model (``table`` = unit_kind, event, outcome, inject, channel...) in ``lang``; an
    unknown name is shown as itself, with spaces for underscores."""
    key = f"{table}.{name}"
    return msg(key, lang) if key in CATALOGUE else str(name).replace("_", " ")


def fields_of(template: str) -> set[str]:
    """The ``{fields}`` a template uses."""
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def duration(seconds: float, lang: str) -> str:
    """'1 min 36 s', '45 s', '1 h 05 min' (1分36秒...): whole seconds, minutes above an hour."""
    if math.isnan(seconds):
        return "?"
    sign = "-" if seconds < -0.5 else ""
    whole = round(abs(seconds))
    if whole < 60:
        return sign + msg("dur.s", lang, s=whole)
    if whole < 3600:
        m, s = divmod(whole, 60)
        return sign + (msg("dur.min", lang, m=m) if s == 0 else msg("dur.min_s", lang, m=m, s=s))
    h, m = divmod(round(whole / 60), 60)
    return sign + msg("dur.h_min", lang, h=h, m=f"{m:02d}")


def indefinite(noun: str, lang: str) -> str:
    """A noun with its English indefinite article ('a theft', 'an illegal drone flight'); Chinese has none."""
    if lang != "en" or not noun:
        return noun
    return ("an " if noun[0].lower() in "aeiou" else "a ") + noun


def sentence(text: str, lang: str) -> str:
    """A sentence as a line shows it: a capital first letter (English) and a full stop unless it ends in
    one already (or in a closing quote)."""
    if not text:
        return text
    if lang == "en":
        text = text[0].upper() + text[1:]
    if text[-1] in '.!?。！？"”':
        return text
    return text + ("。" if lang == "zh" else ".")


def sentences(lang: str, *parts: str) -> str:
    """Several sentences in a row, each capitalised and closed."""
    return msg("list.sentence", lang).join(sentence(p, lang) for p in parts if p)


def unit_name(unit: str, unit_kind: str, lang: str) -> str:
    """A unit as a sentence names it: 'echelon E-R15C17-1', 'the guards of enterprise E0412' (应急梯队...)."""
    if unit_kind == "own_security":
        return msg("unit.own_security", lang, enterprise=unit.split("/", 1)[0])
    if unit_kind == "command_room":
        return msg("unit.command_room", lang, name=unit)
    if unit_kind == "county_centre":
        return msg("unit.county_centre", lang)
    key = f"unit.{unit_kind}"
    if key in CATALOGUE:
        return msg(key, lang, unit=unit)
    return msg("unit.other", lang, kind=term("unit_kind", unit_kind, lang), unit=unit).strip()


def figure_labels(lang: str, figure: str = "timeline") -> dict[str, str]:
    """Every word of a figure, unformatted (the figure fills its ``{fields}``): ``figure``'s own
    (``timeline`` or ``animation``; its title first), then the shared figure words (clock prefix, alarm,
    inject, the four phases, the 1/3/5-minute targets), and for the timeline the term tables as
    ``<table>.<name>``."""
    i = _lang_index(lang)
    own = f"fig.{figure}."
    if not any(k.startswith(own) for k in CATALOGUE):
        raise ValueError(f"figure is timeline or animation, got {figure!r}")
    out = {k.removeprefix(own): v[i] for k, v in CATALOGUE.items() if k.startswith(own)}  # title first
    common = {
        k.removeprefix("fig.common."): v[i] for k, v in CATALOGUE.items() if k.startswith("fig.common.")
    }
    out.update({k: v for k, v in common.items() if k not in out})  # the figure's own word wins
    if figure == "timeline":
        out.update({k: v[i] for k, v in CATALOGUE.items() if k.split(".", 1)[0] in FIGURE_TERMS})
    return out
