"""The synonyms a new knowledge base starts with: how customers of a shop or a subscription
service name what support articles are titled otherwise (migration 0010 writes them; admins
change or delete them through ``/api/v1/kb/synonyms``).

Each set lists words or phrases a search reads as one meaning; a query holding one of them is
searched for the others too (search/synonyms.py). They are the everyday support vocabulary of
orders, deliveries, returns, payments, accounts and subscriptions, in English, Korean and
Chinese, not a knowledge base's own titles: a team adds its product's words through the API.
"""

from __future__ import annotations

SEED: dict[str, list[list[str]]] = {
    "en": [
        ["refund", "money back", "reimbursement", "reimburse", "repayment"],
        ["cancel", "stop", "terminate", "unsubscribe", "discontinue", "end"],
        ["subscription", "plan", "membership"],
        ["package", "parcel", "shipment", "delivery"],
        ["track", "tracking", "trace", "order status", "where is my order", "where is my package",
         "where is my parcel", "wismo"],
        ["return", "send back", "ship back"],
        ["damaged", "broken", "defective", "faulty", "cracked", "smashed"],
        ["invoice", "receipt", "bill"],
        ["password", "passcode", "passphrase"],
        ["sign in", "log in", "login", "logon"],
        ["email", "e-mail", "mail address"],
        ["two-factor", "2fa", "mfa", "multi-factor", "two-step", "2-step verification"],
        ["delete account", "close account", "remove account", "deactivate account", "terminate account"],
        ["discount code", "promo code", "promotion code", "coupon", "voucher"],
        ["gift card", "gift voucher", "gift certificate"],
        ["shipping cost", "delivery cost", "delivery charge", "postage"],
        ["international", "abroad", "overseas", "worldwide", "another country"],
        ["opening hours", "business hours", "support hours", "office hours"],
        ["customer service", "customer support", "support team", "help desk", "helpdesk"],
        ["phone", "telephone", "call", "hotline"],
        ["credit card", "debit card", "bank card", "payment card"],
        ["payment method", "payment option", "pay with"],
        ["upgrade", "higher plan", "bigger plan", "pro plan", "premium"],
        ["export", "download my data", "data export", "copy of my data", "gdpr", "data portability"],
        ["change", "update", "edit", "modify"],
        ["account", "profile"],
        ["order", "purchase"],
        ["item", "product", "goods"],
    ],
    "ko": [
        ["환불", "돈 돌려받", "결제 취소"],
        ["해지", "구독 취소", "정기 결제 취소"],
        ["배송 조회", "택배 조회", "운송장", "배송 추적"],
        ["반품", "반송"],
        ["파손", "깨지", "망가지", "불량"],
        ["영수증", "인보이스", "청구서"],
        ["비밀번호", "패스워드", "암호"],
        ["로그인", "로그온"],
        ["이메일", "메일 주소"],
        ["2단계 인증", "이중 인증", "2fa", "otp"],
        ["계정 삭제", "회원 탈퇴", "탈퇴"],
        ["쿠폰", "할인 코드", "프로모션 코드"],
        ["기프트카드", "상품권", "기프트 카드"],
        ["배송비", "택배비", "운송료"],
        ["해외 배송", "국제 배송", "해외 직배송"],
        ["고객센터", "상담원", "고객 지원", "콜센터"],
        ["요금제", "플랜", "멤버십"],
        ["변경", "바꾸", "수정"],
    ],
    "zh": [
        ["退款", "退钱"],
        ["取消订阅", "退订", "取消续订", "停止续费"],
        ["查询物流", "物流", "快递", "包裹"],
        ["退货", "退回商品"],
        ["损坏", "破损", "坏了", "摔坏"],
        ["发票", "收据", "账单"],
        ["密码", "口令"],
        ["登录", "登陆"],
        ["邮箱", "电子邮件", "邮件地址"],
        ["两步验证", "双重验证", "二次验证"],
        ["注销账户", "注销账号", "删除账户", "删除账号"],
        ["优惠码", "优惠券", "折扣码"],
        ["礼品卡", "购物卡"],
        ["运费", "邮费", "包邮"],
        ["国际配送", "海外配送", "国际快递", "海外"],
        ["客服", "人工客服", "客户服务"],
        ["套餐", "会员"],
        ["修改", "更改", "换"],
    ],
}  # fmt: skip
