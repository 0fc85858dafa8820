#!/usr/bin/env python3
"""Tags every criterion of the rule pack with the standard's dimensions (§5: 组织人员 people,
流程规范 process, 工具平台 tools) where it has none yet, from the words of its requirement
(a developer tool: the tags it writes are data in rules/*.yaml, to be reviewed like any rule;
`opsmaturity rules check` wants one on every criterion).

§5 grades people by roles, training, drills and collaboration; process by documents, online
and closed-loop management, measurement and data-driven improvement; tools by automation,
platforms and intelligence. A requirement names one or more of these; one that names none is
process (a practice the team follows).

Usage: scripts/dev/tag_dimensions.py   (from the repository root)
"""
import glob
import re

PEOPLE = re.compile(r"人员|团队|角色|分工|职责|培训|演练|协作|协同|值班|专家|组织架构|组织规范|客服|技能|经验|人力|岗位|联合|人工")
PROCESS = re.compile(r"流程|制度|规范|标准|审批|评审|定期|办法|机制|策略|计划|预案|复盘|审计|考核|度量|"
                     r"SLA|SLO|报告|文档|回顾|规则|窗口|分级|周期|管理|要求|闭环|统计|分析|评估|量化")
TOOLS = re.compile(r"平台|工具|系统化|自动|脚本|可视化|智能|算法|API|接口|采集|监控|告警|展示|查询|"
                   r"在线|线上|实时|AI|模型|埋点|集群|负载|缓存|数据库|备份|链路|日志|指标|部署|发布|"
                   r"切换|扩容|CMDB|配置|巡检|探测|仪表|大屏|自助|ETL|校验|接收|上报|处理|架构|高可用|"
                   r"扩展|存储|挖掘|推荐|预测|容器|主备|集中|视图|导航|导出|建模|编排|加工|统计功能|加密|脱敏|时序")


def dims(zh):
    out = []
    if PEOPLE.search(zh):
        out.append("people")
    if PROCESS.search(zh):
        out.append("process")
    if TOOLS.search(zh):
        out.append("tools")
    return out or ["process"]


def main():
    for path in sorted(glob.glob("rules/*.yaml")):
        if path.endswith("model.yaml"):
            continue
        lines = open(path, encoding="utf-8").read().split("\n")
        out = []
        i = 0
        while i < len(lines):
            line = lines[i]
            out.append(line)
            m = re.match(r"^(\s*)en: ", line)
            if m:
                indent = m.group(1)
                # the criterion's zh is above; skip if it already has dimensions
                block_start = max(j for j in range(i + 1) if re.match(r"^\s*- id: ", lines[j]))
                block = lines[block_start:i + 1]
                k = i + 1
                while k < len(lines) and lines[k].startswith(indent) and not re.match(r"^\s*- id: ", lines[k]) \
                        and not re.match(r"^\s{0,4}\d:", lines[k]):
                    block.append(lines[k])
                    k += 1
                if not any(re.match(r"^\s*dimensions:", b) for b in block):
                    zh = next((b.split("zh:", 1)[1].strip() for b in block if re.match(r"^\s*zh:", b)), "")
                    out.append(f"{indent}dimensions: [{', '.join(dims(zh))}]")
            i += 1
        open(path, "w", encoding="utf-8").write("\n".join(out))


if __name__ == "__main__":
    main()
