"""Tariff definitions the tests load (hand-written as an operator would)."""

PLANS = """
tariffs:
  - name: home
    title: Home 100
    kind: internet
    timezone: Europe/Moscow
    versions:
      - effective: 2024-01-01
        fee: {amount: "600.00", period: month}
        rate_limit: 100M/100M
        tax: {rate: 20, included: true}
        periods:
          - {name: night, from: "23:00", to: "07:00", days: [workdays]}
        traffic_classes:
          local: [10.0.0.0/8]
          peering: [192.0.2.0/24, 10.99.0.0/16]
        volume:
          - {name: local-free, classes: [local], price: "0"}
          - {name: night-free, period: night, price: "0"}
          - {name: download, direction: in, price: "1.00", unit: GB, allowance: 1 GB}
          - {name: upload, direction: out, price: "0.50", unit: GB}
      - effective: 2025-01-01
        fee: {amount: "700.00", period: month, suspended: "100.00"}
        rate_limit: {down: 204800, up: 102400}
        tax: {rate: 20, included: true}
  - name: phone
    title: City phone
    kind: phone
    timezone: Europe/Moscow
    versions:
      - effective: 2024-01-01
        fee: {amount: "250.00"}
        tax: {rate: 20, included: false}
        holidays: [2024-01-01]
        periods:
          - {name: night, from: "22:00", to: "06:00", days: [all]}
          - {name: weekend, from: "00:00", to: "00:00", days: [weekend, holiday]}
        discounts:
          - {name: staff, percent: 50, group: staff}
        zones:
          - {name: emergency, prefixes: ["112", "101", "102", "103"], price: "0"}
          - {name: local, prefixes: ["7495", "7499"], price: "1.00", increment: 60/60, prices: {night: "0.50", weekend: "0.20"}}
          - {name: mobile, prefixes: ["79"], price: "2.00", increment: 1/1, free_seconds: 3}
          - {name: moscow-mobile, prefixes: ["7916", "7926"], price: "1.50", increment: 30/6, connection_fee: "0.30"}
          - {name: russia, prefixes: ["7"], price: "3.00", per: minute}
          - {name: international, prefixes: ["1", "44", "49"], price: "0.10", per: second, increment: 1/1}
  - name: hotspot
    kind: internet
    versions:
      - effective: 2024-01-01
        session: {price: "0.60", per: minute, increment: 60/60}
  - name: tv
    kind: tv
    versions:
      - effective: 2024-01-01
        fee: {amount: "300.00", period: day, charge: arrears}
        discounts:
          - {name: bundle, percent: 10, applies: fee, requires: [internet, tv]}
        content:
          - {code: film-1, title: "A film", amount: "199.00"}
"""
