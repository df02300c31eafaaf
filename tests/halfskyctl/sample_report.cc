#include "tests/halfskyctl/sample_report.h"

#include <string>

#include "google/protobuf/text_format.h"

namespace halfsky::testing {

namespace v1 = ::halfsky::v1;

namespace {

template <typename M>
M Parse(const std::string& text) {
  M m;
  if (!google::protobuf::TextFormat::ParseFromString(text, &m)) {
    abort();
  }
  return m;
}

// Text-proto fixture: its layout is kept.
// clang-format off
constexpr char kWarnings[] = R"pb(
  warnings {
    id: "HEALTH-04:610303:PROGRESS:2030" indicator_id: "HEALTH-04" area_code: "610303"
    kind: WARNING_KIND_PROGRESS target_year: 2030 severity: SEVERITY_ORANGE
    state: WARNING_STATE_FIRING status: PROGRESS_STATUS_AT_RISK domain_id: "HEALTH"
    indicator_name_zh: "孕产妇死亡率" data_year: 2024 responsible_unit_codes: "HEALTH"
    figures { base_year: 2020 base_value: 18.6 current_year: 2024 current_value: 16.2
              target_year: 2030 target_value: 10.15 projected_value: 13.17
              required_annual_rate: -0.075 actual_annual_rate: -0.0339 progress: 0.58 }
    explanation_zh: "孕产妇死亡率2024年为16.2/10万，按2020年以来年均下降3.4%的速度，2030年预计为13.2/10万，难以达到≤10.15/10万的目标，需年均下降7.5%。"
    firing_since { seconds: 1735707600 }
  }
  warnings {
    id: "ECONOMY-02:610303:OUT_OF_BAND:0" indicator_id: "ECONOMY-02" area_code: "610303"
    kind: WARNING_KIND_OUT_OF_BAND severity: SEVERITY_RED state: WARNING_STATE_FIRING
    status: PROGRESS_STATUS_MOVING_AWAY domain_id: "ECONOMY" indicator_name_zh: "就业人员中女性比例"
    data_year: 2024 responsible_unit_codes: "HUMAN_RESOURCES" responsible_unit_codes: "STATISTICS"
    figures { base_year: 2020 base_value: 44.1 current_year: 2024 current_value: 42.8 target_value: 45 }
    explanation_zh: "就业人员中女性比例2024年为42.8%，低于45%左右（±2个百分点）的目标区间，且较2020年下降1.3个百分点。"
    firing_since { seconds: 1735707600 }
  }
  warnings {
    id: "EDUCATION-05:610303:FLUCTUATION:0" indicator_id: "EDUCATION-05" area_code: "610303"
    kind: WARNING_KIND_FLUCTUATION severity: SEVERITY_YELLOW state: WARNING_STATE_FIRING
    domain_id: "EDUCATION" indicator_name_zh: "女性高中阶段毛入学率" data_year: 2024
    responsible_unit_codes: "EDUCATION"
    figures { current_year: 2024 current_value: 97 latest_change: 0.5 relative_change: 0.0052 }
    explanation_zh: "女性高中阶段毛入学率近年波动较大：2022年为94.6%，较上年下降1.2个百分点，低于每年95%的要求。"
    firing_since { seconds: 1735707600 }
  }
  warnings {
    id: "unit.PEOPLES_CONGRESS:610303:late_data:2024" area_code: "610303"
    kind: WARNING_KIND_LATE_DATA severity: SEVERITY_YELLOW state: WARNING_STATE_FIRING
    domain_id: "DECISION" indicator_name_zh: "区人大代表中女性比例、区政协委员中女性比例、区人大常委会组成人员中女性比例等4项"
    data_year: 2024 unit_code: "PEOPLES_CONGRESS" responsible_unit_codes: "PEOPLES_CONGRESS"
    missing_indicator_ids: "DECISION-03" missing_indicator_ids: "DECISION-06"
    missing_indicator_ids: "DECISION-07" missing_indicator_ids: "DECISION-08"
    days_overdue: 59
    figures { current_year: 2024 }
    explanation_zh: "区人大常委会办公室逾期未报送2024年数据4项：区人大代表中女性比例（DECISION-03）、区政协委员中女性比例（DECISION-06）、区人大常委会组成人员中女性比例（DECISION-07）、区政协常委中女性比例（DECISION-08）；应于2024年12月31日前报送，已逾期59天。"
    firing_since { seconds: 1735660800 }
  }
  warnings {
    id: "unit.HEALTH:610303:late_data:2023" area_code: "610303"
    kind: WARNING_KIND_LATE_DATA severity: SEVERITY_RED state: WARNING_STATE_FIRING
    domain_id: "HEALTH" indicator_name_zh: "孕产妇死亡率" data_year: 2023 unit_code: "HEALTH"
    responsible_unit_codes: "HEALTH" missing_indicator_ids: "HEALTH-04" days_overdue: 425
    figures { current_year: 2023 }
    explanation_zh: "区卫生健康局逾期未报送2023年数据1项：孕产妇死亡率（HEALTH-04）；应于2023年12月31日前报送，已逾期425天。"
    firing_since { seconds: 1704038400 }
  }
)pb";
// clang-format on

}  // namespace

v1::EvaluationReport SampleReport() {
  // Text-proto fixture: its layout is kept.
  // clang-format off
  v1::EvaluationReport r = Parse<v1::EvaluationReport>(R"pb(
    type: REPORT_TYPE_ANNUAL year: 2024 area_code: "610303"
    generated_at { seconds: 1740794400 }
    domains {
      domain_id: "HEALTH" name_zh: "妇女与健康" assessed_count: 2 achieved_count: 1
      achievement_rate_percent: 50
      status_counts { status: PROGRESS_STATUS_ACHIEVED count: 1 }
      status_counts { status: PROGRESS_STATUS_AT_RISK count: 1 }
      status_counts { status: PROGRESS_STATUS_NOT_ASSESSABLE count: 1 }
    }
    domains {
      domain_id: "EDUCATION" name_zh: "妇女与教育" assessed_count: 1 achieved_count: 1
      achievement_rate_percent: 100
      status_counts { status: PROGRESS_STATUS_ACHIEVED count: 1 }
    }
    domains {
      domain_id: "ECONOMY" name_zh: "妇女与经济" assessed_count: 1 achieved_count: 0
      achievement_rate_percent: 0
      status_counts { status: PROGRESS_STATUS_MOVING_AWAY count: 1 }
    }
    overall {
      assessed_count: 4 achieved_count: 2 achievement_rate_percent: 50
      status_counts { status: PROGRESS_STATUS_ACHIEVED count: 2 }
      status_counts { status: PROGRESS_STATUS_AT_RISK count: 1 }
      status_counts { status: PROGRESS_STATUS_MOVING_AWAY count: 1 }
      status_counts { status: PROGRESS_STATUS_NOT_ASSESSABLE count: 1 }
    }
    indicators {
      indicator_id: "HEALTH-04" name_zh: "孕产妇死亡率" domain_id: "HEALTH" unit: "/10万"
      assessments {
        target { comparator: COMPARATOR_AT_MOST year: 2030 value: 10.15
                 text_zh: "孕产妇死亡率下降到10.15/10万以下" }
        status: PROGRESS_STATUS_AT_RISK severity: SEVERITY_ORANGE warning_kind: WARNING_KIND_PROGRESS
        figures { base_year: 2020 base_value: 18.6 current_year: 2024 current_value: 16.2
                  target_year: 2030 target_value: 10.15 projected_value: 13.17
                  required_annual_rate: -0.075 actual_annual_rate: -0.0339 progress: 0.58
                  few_events: true event_count: 9
                  interval { lower: 7.4 upper: 30.8 level: 0.95 } }
        explanation_zh: "孕产妇死亡率2024年为16.2/10万，按2020年以来年均下降3.4%的速度，2030年预计为13.2/10万，难以达到≤10.15/10万的目标，需年均下降7.5%。"
      }
      assessments {
        target { comparator: COMPARATOR_NARROW_GAP year: 2030 gap_dimension: GAP_DIMENSION_RESIDENCE
                 text_zh: "城乡差距明显缩小" }
        status: PROGRESS_STATUS_NOT_ASSESSABLE
        explanation_zh: "城乡分组数据不足两年，暂无法评估。"
      }
      series { year: 2020 value: 18.6 numerator: 3 denominator: 16129 }
      series { year: 2021 value: 17.9 numerator: 3 denominator: 16760 }
      series { year: 2022 value: 17.2 numerator: 3 denominator: 17442 }
      series { year: 2023 value: 16.9 numerator: 3 denominator: 17751 }
      series { year: 2024 value: 16.2 numerator: 3 denominator: 18519 }
    }
    indicators {
      indicator_id: "HEALTH-05" name_zh: "孕产妇系统管理率" domain_id: "HEALTH" unit: "%"
      assessments {
        target { comparator: COMPARATOR_AT_LEAST year: 2030 value: 98
                 text_zh: "孕产妇系统管理率达到98％" }
        status: PROGRESS_STATUS_ACHIEVED
        figures { base_year: 2020 base_value: 95.1 current_year: 2024 current_value: 98.4
                  target_year: 2030 target_value: 98 actual_annual_rate: 0.0086 }
        explanation_zh: "孕产妇系统管理率2024年为98.4%，已达到≥98%的2030年目标。"
      }
      series { year: 2020 value: 95.1 }
      series { year: 2021 value: 96.0 }
      series { year: 2022 value: 96.8 }
      series { year: 2023 value: 97.9 }
      series { year: 2024 value: 98.4 }
    }
    indicators {
      indicator_id: "HEALTH-10" name_zh: "生殖健康和优生优育知识普及情况" domain_id: "HEALTH"
      assessments {
        target { comparator: COMPARATOR_INCREASE year: 2030 text_zh: "普及生殖健康和优生优育知识" }
        status: PROGRESS_STATUS_NOT_ASSESSABLE
        explanation_zh: "定性目标，依据年度工作进展评估。"
      }
    }
    indicators {
      indicator_id: "EDUCATION-05" name_zh: "女性高中阶段毛入学率" domain_id: "EDUCATION" unit: "%"
      assessments {
        target { comparator: COMPARATOR_MAINTAIN_AT_LEAST every_year: true value: 95
                 text_zh: "女性高中阶段毛入学率达到并保持在95％以上" }
        status: PROGRESS_STATUS_ACHIEVED
        figures { base_year: 2020 base_value: 96.2 current_year: 2024 current_value: 97 target_value: 95 }
        explanation_zh: "女性高中阶段毛入学率2024年为97.0%，达到每年≥95%的要求。"
      }
      series { year: 2020 value: 96.2 }
      series { year: 2021 value: 95.8 }
      series { year: 2022 value: 94.6 }
      series { year: 2023 value: 96.5 }
      series { year: 2024 value: 97.0 }
    }
    indicators {
      indicator_id: "ECONOMY-02" name_zh: "就业人员中女性比例" domain_id: "ECONOMY" unit: "%"
      assessments {
        target { comparator: COMPARATOR_ABOUT every_year: true value: 45 tolerance: 2
                 text_zh: "就业人员中的女性比例保持在45％左右" }
        status: PROGRESS_STATUS_MOVING_AWAY severity: SEVERITY_RED warning_kind: WARNING_KIND_OUT_OF_BAND
        figures { base_year: 2020 base_value: 44.1 current_year: 2024 current_value: 42.8 target_value: 45 }
        explanation_zh: "就业人员中女性比例2024年为42.8%，低于45%左右（±2个百分点）的目标区间，且较2020年下降1.3个百分点。"
      }
      series { year: 2020 value: 44.1 }
      series { year: 2021 }
      series { year: 2022 value: 43.6 }
      series { year: 2023 value: 42.9 }
      series { year: 2024 value: 42.8 }
    }
  )pb");
  // clang-format on
  v1::ListWarningsResponse w = Parse<v1::ListWarningsResponse>(kWarnings);
  *r.mutable_warnings() = w.warnings();
  return r;
}

std::vector<v1::Warning> SampleWarnings() {
  v1::ListWarningsResponse w = Parse<v1::ListWarningsResponse>(kWarnings);
  std::vector<v1::Warning> out(w.warnings().begin(), w.warnings().end());
  // Out of order on purpose: the views sort.
  std::swap(out[0], out[3]);
  // Text-proto fixture: its layout is kept.
  // clang-format off
  v1::Warning acked = Parse<v1::Warning>(R"pb(
    id: "HEALTH-05:610303:SLIPPED:2030" indicator_id: "HEALTH-05" area_code: "610303001"
    kind: WARNING_KIND_SLIPPED target_year: 2030 severity: SEVERITY_ORANGE
    state: WARNING_STATE_FIRING status: PROGRESS_STATUS_NEEDS_ACCELERATION domain_id: "HEALTH"
    indicator_name_zh: "孕产妇系统管理率" data_year: 2024 responsible_unit_codes: "HEALTH"
    figures { current_year: 2024 current_value: 97.6 target_value: 98 }
    explanation_zh: "中山东路街道孕产妇系统管理率2023年已达到98%，2024年回落至97.6%。"
    acknowledgement { by: "assessment-office" note: "已约谈街道卫生院，2025年一季度复查" at { seconds: 1740000000 } }
    firing_since { seconds: 1735707600 }
  )pb");
  // clang-format on
  out.push_back(acked);
  return out;
}

v1::GetSeriesResponse SampleSeries() {
  // Text-proto fixture: its layout is kept.
  // clang-format off
  return Parse<v1::GetSeriesResponse>(R"pb(
    indicator_id: "HEALTH-04" area_code: "610303" sex: SEX_TOTAL residence: RESIDENCE_ALL
    points { year: 2020 value: 18.6 numerator: 3 denominator: 16129 completeness_percent: 100 }
    points { year: 2021 value: 17.9 numerator: 3 denominator: 16760 completeness_percent: 100
             change_from_previous: -0.7 }
    points { year: 2022 value: 17.2 numerator: 3 denominator: 17442 completeness_percent: 90.9
             change_from_previous: -0.7 }
    points { year: 2023 numerator: 0 denominator: 0 completeness_percent: 0 }
    points { year: 2024 value: 16.2 numerator: 3 denominator: 18519 completeness_percent: 100
             part_count: 2 approved_part_count: 1 contains_unapproved_data: true }
    targets { comparator: COMPARATOR_AT_MOST year: 2030 value: 10.15
              text_zh: "孕产妇死亡率下降到10.15/10万以下" }
    targets { comparator: COMPARATOR_NARROW_GAP year: 2030 gap_dimension: GAP_DIMENSION_RESIDENCE
              text_zh: "城乡差距明显缩小" }
  )pb");
  // clang-format on
}

v1::GetReportingStatusResponse SampleReportingStatus() {
  // Text-proto fixture: its layout is kept.
  // clang-format off
  return Parse<v1::GetReportingStatusResponse>(R"pb(
    units { unit_code: "HEALTH" expected_count: 17 reported_count: 17 on_time_count: 16
            completeness_percent: 100 timeliness_percent: 94.1176 }
    units { unit_code: "PEOPLES_CONGRESS" expected_count: 2 reported_count: 1 on_time_count: 1
            completeness_percent: 50 timeliness_percent: 50 }
    units { unit_code: "EDUCATION" expected_count: 9 reported_count: 9 on_time_count: 9
            completeness_percent: 100 timeliness_percent: 100 }
    overall { expected_count: 28 reported_count: 27 on_time_count: 26
              completeness_percent: 96.4286 timeliness_percent: 92.8571 }
    entries { unit_code: "PEOPLES_CONGRESS" indicator_id: "DECISION-03" year: 2024
              state: REPORTING_STATE_MISSING due_at { seconds: 1735660799 } }
    entries { unit_code: "HEALTH" indicator_id: "HEALTH-04" year: 2024
              state: REPORTING_STATE_LATE due_at { seconds: 1735660799 }
              first_submitted_at { seconds: 1736240400 } last_submitted_at { seconds: 1736240400 } }
    entries { unit_code: "EDUCATION" indicator_id: "EDUCATION-05" year: 2024
              state: REPORTING_STATE_ON_TIME due_at { seconds: 1735660799 } }
  )pb");
  // clang-format on
}

v1::AnnualReport SampleAnnualReport() {
  // Text-proto fixture: its layout is kept.
  // clang-format off
  return Parse<v1::AnnualReport>(R"pb(
    year: 2024 area_code: "610303"
    domains {
      domain_id: "HEALTH" name_zh: "妇女与健康"
      rows { indicator_id: "HEALTH-04" name_zh: "孕产妇死亡率" unit: "/10万" value: 16.2
             previous_value: 16.9 change: -0.7 completeness_percent: 100 urban_minus_rural: -4.1 }
      rows { indicator_id: "HEALTH-05" name_zh: "孕产妇系统管理率" unit: "%" value: 98.4
             previous_value: 97.9 change: 0.5 completeness_percent: 90.9 }
    }
  )pb");
  // clang-format on
}

}  // namespace halfsky::testing
