"""The project's own relevance set for search: articles in English, Korean and Chinese, and
questions customers ask in each language, each labelled with the article that answers it.

``make bench`` (knowledge/bench.py) writes these articles among many others and measures, per
language, recall@3 (the answering article among the first three hits) and MRR (the mean of
1 / its rank). Questions are worded as customers write, not as the titles are: other words,
other forms, a typo now and then.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    key: str
    # Per language: (title, body) of the article, and the questions it answers.
    articles: dict[str, tuple[str, str]]
    questions: dict[str, list[str]]


TOPICS: list[Topic] = [
    Topic(
        "password",
        {
            "en": ("Reset your password", "Forgot your password? Open Settings, then Security, and choose Reset "
                   "password. We email you a link that works for one hour."),
            "ko": ("비밀번호 재설정", "비밀번호를 잊어버렸다면 설정의 보안 메뉴에서 비밀번호 재설정을 선택하세요. "
                   "한 시간 동안 유효한 링크를 이메일로 보내드립니다."),
            "zh": ("重置密码", "如果您忘记了密码，请在设置的安全选项中选择重置密码。我们会向您的邮箱发送一个一小时内有效的链接。"),
        },
        {
            "en": ["I forgot my password", "how do I reset my pasword"],
            "ko": ["비밀번호를 잊어버렸어요", "비밀번호 어떻게 바꾸나요"],
            "zh": ["忘记密码了怎么办", "怎么重置密码"],
        },
    ),
    Topic(
        "refund",
        {
            "en": ("Request a refund", "Refunds are paid to the card you used within 5 business days after we "
                   "receive the returned item."),
            "ko": ("환불 요청하기", "반품된 상품을 받은 뒤 영업일 기준 5일 안에 결제하신 카드로 환불해 드립니다."),
            "zh": ("申请退款", "我们收到退回的商品后，会在5个工作日内将退款退回您付款使用的银行卡。"),
        },
        {
            "en": ["when will I get my money back", "refund not received yet"],
            "ko": ["환불은 언제 되나요", "환불 받고 싶어요"],
            "zh": ["退款什么时候到账", "我想申请退款"],
        },
    ),
    Topic(
        "address",
        {
            "en": ("Change your shipping address", "You can change where an order is delivered until it ships: "
                   "open the order and edit the delivery address."),
            "ko": ("배송지 변경", "주문이 발송되기 전까지 주문 상세에서 배송 주소를 바꿀 수 있습니다."),
            "zh": ("修改收货地址", "在订单发货之前，您可以在订单详情中修改收货地址。"),
        },
        {
            "en": ["wrong delivery address on my order", "change address after ordering"],
            "ko": ["배송 주소를 잘못 입력했어요", "주소 변경 가능한가요"],
            "zh": ["收货地址填错了", "下单后能改地址吗"],
        },
    ),
    Topic(
        "two_factor",
        {
            "en": ("Turn on two-factor authentication", "Protect your account with an authenticator app: each "
                   "sign-in then asks for a six-digit code."),
            "ko": ("2단계 인증 설정", "인증 앱으로 계정을 보호하세요. 로그인할 때마다 여섯 자리 인증 코드를 입력합니다."),
            "zh": ("开启两步验证", "使用身份验证器应用保护您的账户：每次登录时都需要输入六位验证码。"),
        },
        {
            "en": ["how to enable 2FA", "authenticator app code at login"],
            "ko": ["2단계 인증은 어떻게 켜나요", "로그인 인증 코드"],
            "zh": ["如何设置两步验证", "登录验证码"],
        },
    ),
    Topic(
        "cancel",
        {
            "en": ("Cancel your subscription", "Cancel any time under Billing, Subscription; you keep access "
                   "until the end of the period you paid for."),
            "ko": ("구독 해지", "결제 메뉴의 구독에서 언제든지 해지할 수 있으며, 결제한 기간이 끝날 때까지 이용할 수 있습니다."),
            "zh": ("取消订阅", "您可以随时在账单的订阅页面取消订阅，已付费的周期结束前仍可继续使用。"),
        },
        {
            "en": ["stop my subscription", "how do I cancel my plan"],
            "ko": ["구독 취소하고 싶어요", "정기 결제 해지 방법"],
            "zh": ["怎么取消订阅", "不想续订了"],
        },
    ),
    Topic(
        "invoice",
        {
            "en": ("Download an invoice", "Every invoice is under Billing, Invoices: choose one and download it "
                   "as a PDF."),
            "ko": ("영수증 다운로드", "결제 메뉴의 영수증에서 원하는 영수증을 선택해 PDF로 내려받을 수 있습니다."),
            "zh": ("下载发票", "所有发票都在账单的发票页面，选择一张即可下载PDF文件。"),
        },
        {
            "en": ["where can I find my invoices", "need a PDF receipt for my payment"],
            "ko": ["영수증 어디서 받나요", "결제 영수증 PDF"],
            "zh": ["在哪里下载发票", "我需要发票"],
        },
    ),
    Topic(
        "delete_account",
        {
            "en": ("Delete your account", "Deleting your account removes your data for good after 30 days; you "
                   "can still sign in and undo it until then."),
            "ko": ("계정 삭제", "계정을 삭제하면 30일 후 데이터가 영구히 지워지며, 그 전까지는 로그인해서 취소할 수 있습니다."),
            "zh": ("注销账户", "注销账户后，您的数据将在30天后被永久删除；在此之前您仍可登录并撤销。"),
        },
        {
            "en": ["remove my account permanently", "close my account"],
            "ko": ["회원 탈퇴하고 싶어요", "계정 지우는 방법"],
            "zh": ["怎么注销账号", "删除我的账户"],
        },
    ),
    Topic(
        "email",
        {
            "en": ("Change the email address of your account", "Open Profile and enter the new email address; we "
                   "send a confirmation link to it."),
            "ko": ("계정 이메일 주소 변경", "프로필에서 새 이메일 주소를 입력하면 확인 링크를 보내드립니다."),
            "zh": ("更改账户邮箱", "打开个人资料并输入新的邮箱地址，我们会向新邮箱发送确认链接。"),
        },
        {
            "en": ["update my e-mail", "use a different email to log in"],
            "ko": ["이메일 바꾸고 싶어요", "로그인 이메일 변경"],
            "zh": ["怎么换邮箱", "修改登录邮箱"],
        },
    ),
    Topic(
        "track",
        {
            "en": ("Track your order", "Once an order ships we email the tracking number; you also find it on the "
                   "order's page."),
            "ko": ("주문 배송 조회", "주문이 발송되면 운송장 번호를 이메일로 보내드리며, 주문 상세에서도 확인할 수 있습니다."),
            "zh": ("查询物流", "订单发货后，我们会通过邮件发送物流单号，您也可以在订单页面查看。"),
        },
        {
            "en": ["where is my package", "tracking number for my parcel"],
            "ko": ["택배 어디쯤 왔나요", "운송장 번호 확인"],
            "zh": ["我的包裹到哪了", "物流单号在哪里看"],
        },
    ),
    Topic(
        "return",
        {
            "en": ("Return an item", "You may return an item within 30 days: print the return label from the order "
                   "and drop the parcel at any post office."),
            "ko": ("상품 반품하기", "30일 이내에 반품할 수 있습니다. 주문에서 반품 라벨을 출력해 우체국에 맡겨 주세요."),
            "zh": ("退货", "您可以在30天内退货：在订单中打印退货标签，然后将包裹交到任意邮局。"),
        },
        {
            "en": ["send back a product", "how to get a return label"],
            "ko": ["반품 신청 방법", "반품 라벨 출력"],
            "zh": ["怎么退货", "退货标签在哪打印"],
        },
    ),
    Topic(
        "payment_methods",
        {
            "en": ("Payment methods we accept", "We accept Visa, Mastercard, American Express, PayPal and bank "
                   "transfer."),
            "ko": ("결제 수단 안내", "비자, 마스터카드, 아메리칸 익스프레스, 페이팔, 계좌 이체로 결제할 수 있습니다."),
            "zh": ("支持的支付方式", "我们支持Visa、万事达卡、美国运通、PayPal和银行转账。"),
        },
        {
            "en": ["can I pay with PayPal", "which cards do you take"],
            "ko": ["페이팔 결제 되나요", "어떤 카드로 결제할 수 있나요"],
            "zh": ["可以用PayPal付款吗", "支持哪些银行卡"],
        },
    ),
    Topic(
        "update_card",
        {
            "en": ("Update your credit card", "Replace an expired card under Billing, Payment method; the next "
                   "charge uses the new card."),
            "ko": ("신용카드 정보 변경", "결제 메뉴의 결제 수단에서 만료된 카드를 새 카드로 바꾸면 다음 결제부터 적용됩니다."),
            "zh": ("更新信用卡", "在账单的付款方式中更换过期的银行卡，下次扣款将使用新卡。"),
        },
        {
            "en": ["my card expired", "change the card I pay with"],
            "ko": ["카드가 만료됐어요", "결제 카드 바꾸기"],
            "zh": ["信用卡过期了", "换一张付款的卡"],
        },
    ),
    Topic(
        "gift_card",
        {
            "en": ("Redeem a gift card", "Enter the gift card code at checkout; its balance pays first and the rest "
                   "goes to your card."),
            "ko": ("기프트카드 사용", "결제할 때 기프트카드 코드를 입력하면 잔액이 먼저 사용되고 나머지는 카드로 결제됩니다."),
            "zh": ("使用礼品卡", "结账时输入礼品卡代码，先扣礼品卡余额，其余部分用您的银行卡支付。"),
        },
        {
            "en": ["how do I use my gift card", "gift card balance"],
            "ko": ["기프트카드 어떻게 쓰나요", "기프트카드 잔액"],
            "zh": ["礼品卡怎么用", "礼品卡余额"],
        },
    ),
    Topic(
        "coupon",
        {
            "en": ("Apply a discount code", "Type the discount code in the basket before you pay; one code per "
                   "order."),
            "ko": ("할인 쿠폰 적용", "결제하기 전에 장바구니에서 할인 쿠폰 코드를 입력하세요. 주문당 하나만 사용할 수 있습니다."),
            "zh": ("使用优惠码", "付款前在购物车中输入优惠码，每个订单只能使用一个。"),
        },
        {
            "en": ["my promo code does not work", "where do I enter a coupon"],
            "ko": ["쿠폰 코드 어디에 넣나요", "할인 코드 적용이 안 돼요"],
            "zh": ["优惠券在哪里输入", "折扣码用不了"],
        },
    ),
    Topic(
        "shipping_cost",
        {
            "en": ("Shipping costs", "Standard shipping is free above 50 euros; below that it costs 4.90 euros."),
            "ko": ("배송비 안내", "5만 원 이상 주문하면 무료 배송이며, 그 미만은 배송비 3,000원이 부과됩니다."),
            "zh": ("运费说明", "订单满200元免运费，不满则收取10元运费。"),
        },
        {
            "en": ["how much is delivery", "free shipping threshold"],
            "ko": ["배송비 얼마예요", "무료 배송 조건"],
            "zh": ["运费多少钱", "多少钱包邮"],
        },
    ),
    Topic(
        "international",
        {
            "en": ("International shipping", "We ship to 40 countries; customs duties are paid by the recipient on "
                   "delivery."),
            "ko": ("해외 배송", "40개국으로 배송하며, 관세는 수령인이 배송 시 부담합니다."),
            "zh": ("国际配送", "我们可配送至40个国家，关税由收件人在收货时支付。"),
        },
        {
            "en": ["do you ship abroad", "customs fees for delivery overseas"],
            "ko": ["해외로도 배송되나요", "관세는 누가 내나요"],
            "zh": ["可以寄到国外吗", "关税谁来付"],
        },
    ),
    Topic(
        "damaged",
        {
            "en": ("Report a damaged item", "If an item arrives broken, send us a photo within 7 days and we send a "
                   "replacement."),
            "ko": ("파손 상품 신고", "상품이 파손되어 도착했다면 7일 이내에 사진을 보내 주세요. 새 상품으로 교환해 드립니다."),
            "zh": ("商品破损", "如果商品到货时已损坏，请在7天内发送照片给我们，我们将为您补发。"),
        },
        {
            "en": ["my item arrived broken", "the product is damaged"],
            "ko": ["상품이 깨져서 왔어요", "파손된 상품 교환"],
            "zh": ["收到的东西坏了", "商品损坏怎么办"],
        },
    ),
    Topic(
        "support_hours",
        {
            "en": ("Contact our support team", "Our team answers chat and phone from 9 to 18, Monday to Friday; email "
                   "any time."),
            "ko": ("고객센터 운영 시간", "채팅과 전화 상담은 평일 오전 9시부터 오후 6시까지 운영하며, 이메일은 언제든 보내실 수 있습니다."),
            "zh": ("联系客服", "客服在周一至周五9点到18点提供在线聊天和电话服务，邮件随时可发。"),
        },
        {
            "en": ["what are your opening hours", "phone number for customer service"],
            "ko": ["상담원 연결 시간", "고객센터 전화 시간"],
            "zh": ["客服几点上班", "人工客服电话"],
        },
    ),
    Topic(
        "upgrade",
        {
            "en": ("Upgrade your plan", "Move to a bigger plan under Billing, Plans; you pay only the difference for "
                   "the rest of the month."),
            "ko": ("요금제 업그레이드", "결제 메뉴의 요금제에서 상위 요금제로 바꾸면 이번 달 남은 기간의 차액만 결제합니다."),
            "zh": ("升级套餐", "在账单的套餐页面升级到更高套餐，本月剩余时间只需支付差价。"),
        },
        {
            "en": ["switch to the pro plan", "upgrade my subscription tier"],
            "ko": ["요금제 변경하고 싶어요", "프로 요금제로 올리기"],
            "zh": ["怎么升级会员", "换成更高的套餐"],
        },
    ),
    Topic(
        "export",
        {
            "en": ("Export your data", "Under Profile, Privacy, ask for an export: we email a ZIP file of all your "
                   "data within a day."),
            "ko": ("내 데이터 내보내기", "프로필의 개인정보 메뉴에서 내보내기를 요청하면 하루 안에 모든 데이터를 ZIP 파일로 보내드립니다."),
            "zh": ("导出数据", "在个人资料的隐私页面申请导出，我们会在一天内通过邮件发送包含您全部数据的ZIP文件。"),
        },
        {
            "en": ["download all my data", "GDPR data export"],
            "ko": ["개인정보 데이터 다운로드", "내 정보 내보내기 요청"],
            "zh": ["下载我的全部数据", "怎么导出个人数据"],
        },
    ),
]  # fmt: skip

LANGUAGES = ("en", "ko", "zh")
